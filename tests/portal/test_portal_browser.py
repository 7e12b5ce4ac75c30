"""The portal in a real headless Chromium (Debian's package, driven by Playwright): sign in through azemu's
Entra ID (authorization code + PKCE), create a VM, deprovision it in the serial console, deallocate and
generalize it, Capture it with "Automatically delete" into a new gallery definition replicated to two
regions, watch replication finish, and see the version and the VM gone. Screenshots are kept under
``test-artifacts/portal/``; axe-core (from npm, web/node_modules) checks every page it visits."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from azemu.testing import AzemuServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (scripts/test installs it)",
)


@pytest.fixture(scope="module")
def emu():
    # scaled latency: operations take real (if short) time, so replication progress is there to watch
    with AzemuServer(latency="scaled:0.02") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def axe(page, where: str) -> None:
    """No serious or critical accessibility violation on the page as it is now."""
    # evaluated over the DevTools protocol: the portal's Content-Security-Policy refuses inline scripts
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;void 0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} - {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"accessibility violations on {where}: {bad}"


def sign_in(page, emu) -> None:
    page.goto(emu.endpoint + "/portal/")
    page.click("#signin")
    page.wait_for_selector("#login")  # azemu's Entra ID sign-in page
    assert page.url.startswith(emu.endpoint + "/organizations/oauth2/v2.0/authorize?")
    assert "code_challenge_method=S256" in page.url
    page.click("#signin")
    page.wait_for_selector("text=Subscriptions you can reach")


def terminal_text(page) -> str:
    return page.inner_text(".xterm-rows")


def type_line(page, text: str, expect: str, timeout: float = 30_000) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([t]) => document.querySelector('.xterm-rows').innerText.includes(t)", arg=[expect], timeout=timeout
    )


@pytest.mark.slow
def test_capture_flow_in_chromium(emu, page):
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run scripts/setup (npm ci in web/)")
    sign_in(page, emu)
    shot(page, "01-home")
    axe(page, "home")

    # create a VM (a template deployment, through ARM)
    page.click("text=Create a virtual machine")
    page.wait_for_selector("#vm-name")
    page.fill("#vm-new-rg", "portalRG")
    page.fill("#vm-name", "srcVM")
    page.fill("#vm-password", "Az3mu!Passw0rd")
    axe(page, "create a virtual machine")
    page.click("#create-vm")
    page.wait_for_selector("#power-state:has-text('VM running')", timeout=120_000)
    shot(page, "02-vm-running")
    axe(page, "VM blade")

    # the Capture blade refuses a running VM, in Azure's words
    page.click("#capture")
    page.wait_for_selector("#capture-refusal .banner.error")
    assert "since the VM is running" in page.inner_text("#capture-refusal")
    assert page.is_disabled("#create-image")
    shot(page, "03-capture-refused-running")
    page.go_back()

    # serial console: log in and deprovision
    page.wait_for_selector("#serial-console")
    page.click("#serial-console")
    page.wait_for_selector("#console-connection:has-text('connected')")
    page.wait_for_function("() => document.querySelector('.xterm-rows').innerText.includes('login:')")
    page.click("#terminal")
    type_line(page, "azureuser", "Password:")
    type_line(page, "Az3mu!Passw0rd", "azureuser@srcVM:~$")
    type_line(page, "sudo waagent -deprovision+user", "Do you want to proceed (y/n)")
    page.keyboard.type("y")
    page.keyboard.press("Enter")
    type_line(page, "hostname", "localhost.localdomain")  # waagent reset the host name
    shot(page, "04-serial-console-deprovisioned")
    axe(page, "serial console")
    assert "azureuser account and entire home directory will be deleted" in terminal_text(page)

    # deallocate, then mark generalized (the VM blade's commands: ARM actions)
    page.click(".console-bar a")
    page.wait_for_selector("#power-state")
    page.click("button:has-text('Deallocate')")
    page.wait_for_selector("#power-state:has-text('VM deallocated')", timeout=120_000)
    page.click("button:has-text('Generalize')")
    page.wait_for_selector("#os-state:has-text('Generalized')", timeout=60_000)
    shot(page, "05-vm-generalized")

    # Capture: a new gallery and definition, two regions, auto-delete
    page.click("#capture")
    page.wait_for_selector("#share-yes")
    assert page.inner_text("#capture-refusal").strip() == ""
    page.check("#auto-delete")
    page.select_option("#gallery", "")
    page.fill("#new-gallery", "portalGallery")
    page.select_option("#definition", "")
    page.fill("#new-definition", "ubuntuDef")
    page.fill("#version", "1.0.0")
    page.click("#add-region")
    page.locator("select.region-name").nth(1).select_option("westeurope")
    page.locator("input.region-count").nth(1).fill("2")
    shot(page, "06-capture-blade")
    axe(page, "capture blade")
    page.click("#create-image")

    # the version blade: replication per region, live, to the end
    page.wait_for_selector("#replication", timeout=120_000)
    shot(page, "07-replicating")
    page.wait_for_selector("#replication-state:has-text('Completed')", timeout=300_000)
    page.wait_for_selector("#source-state:has-text('deleted')", timeout=120_000)
    shot(page, "08-version-replicated")
    axe(page, "image version blade")
    rows = page.inner_text("#replication")
    assert "East US" in rows and "West Europe" in rows
    assert page.inner_text("#version-state") == "Succeeded"

    # through ARM (the CLI's view): the version exists, the VM is gone
    sub = emu.subscription_id
    base = f"/subscriptions/{sub}/resourceGroups/portalRG/providers/Microsoft.Compute"
    status, version, _ = emu.request(
        "GET", f"{base}/galleries/portalGallery/images/ubuntuDef/versions/1.0.0?api-version=2024-03-03"
    )
    assert status == 200 and version["properties"]["provisioningState"] == "Succeeded"
    assert sorted(r["name"] for r in version["properties"]["publishingProfile"]["targetRegions"]) == [
        "East US",
        "West Europe",
    ]
    status, _, _ = emu.request("GET", f"{base}/virtualMachines/srcVM?api-version=2024-11-01")
    assert status == 404
    assert not page.errors, page.errors


def test_failures_show_in_the_activity_log_in_azures_words(emu, page):
    sign_in(page, emu)
    sub = emu.subscription_id
    # a refused request: generalizing a running VM is not possible, here a VM that does not exist
    emu.request(
        "PUT", f"/subscriptions/{sub}/resourcegroups/logRG?api-version=2021-04-01", {"location": "eastus"}
    )
    status, _, _ = emu.request(
        "POST",
        f"/subscriptions/{sub}/resourceGroups/logRG/providers/Microsoft.Compute/virtualMachines/nope/start"
        "?api-version=2024-11-01",
    )
    assert status == 404
    page.goto(emu.endpoint + f"/portal/#/activity/{sub}")
    page.wait_for_selector("text=Activity log events")
    text = page.inner_text("main")
    assert re.search(r"Failed\s+Microsoft\.Compute/virtualMachines/start/action", text)
    assert "ResourceNotFound: The Resource 'Microsoft.Compute/virtualMachines/nope'" in text
    axe(page, "activity log")
    shot(page, "09-activity-log")


def test_labs_page_starts_checks_and_hints(emu, page):
    """The Labs page lists the chapter's labs, starts one (its resource group made by azemu), checks it (the
    findings shown, the lab not yet passed: nothing was done) and shows a hint - all through /_azemu/labs."""
    sign_in(page, emu)
    page.goto(emu.endpoint + "/portal/#/labs")
    page.wait_for_selector("text=Exercises built from the AZ-104 chapter")
    listing = page.inner_text("main")
    assert "Scaling out from a specialized image" in listing and "lab-trap-specialized-farm" in listing
    assert len(page.query_selector_all("a[href^='#/labs/']")) >= 8
    page.click("a[href='#/labs/capture-linux']")
    page.wait_for_selector("#lab-start")
    axe(page, "a lab")
    page.click("#lab-start")
    page.wait_for_selector("text=Started: resource group")
    status, group, _ = emu.request(
        "GET", f"/subscriptions/{emu.subscription_id}/resourcegroups/lab-capture-linux?api-version=2021-04-01"
    )
    assert status == 200, group
    page.click("#lab-check")
    page.wait_for_selector("#lab-result .findings li")
    result = page.inner_text("#lab-result")
    assert re.search(r"\d+ of \d+ requirements met", result) and "lab passed" not in result
    assert "✘" in result
    page.click("#lab-hint")
    page.wait_for_selector("text=Hint 1 of")
    shot(page, "10-labs")
    assert not page.errors, page.errors


def test_policy_assignments_show_on_the_subscription_and_a_denied_create_in_the_activity_log(emu, page):
    """Azure Policy through the portal's eyes: an assignment made with the API is listed on the subscription
    blade with its display name and enforcement mode, and a write it denies shows in the activity log with
    Azure's RequestDisallowedByPolicy."""
    sub = emu.subscription_id
    allowed = "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c"
    status, body, _ = emu.request(
        "PUT",
        f"/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments/eu-only?api-version=2023-04-01",
        {"properties": {"policyDefinitionId": allowed, "displayName": "Only West Europe",
                        "parameters": {"listOfAllowedLocations": {"value": ["westeurope"]}}}},
    )  # fmt: skip
    assert status == 201, body
    emu.request(
        "PUT", f"/subscriptions/{sub}/resourcegroups/policyRG?api-version=2021-04-01", {"location": "eastus"}
    )
    status, body, _ = emu.request(
        "PUT",
        f"/subscriptions/{sub}/resourceGroups/policyRG/providers/Microsoft.Network/networkSecurityGroups/nsg1"
        "?api-version=2024-05-01",
        {"location": "eastus"},
    )
    assert status == 403 and body["error"]["code"] == "RequestDisallowedByPolicy", body
    try:
        sign_in(page, emu)
        page.goto(emu.endpoint + f"/portal/#/resource/subscriptions/{sub}")
        page.wait_for_selector("text=Only West Europe")
        text = page.inner_text("main")
        assert re.search(r"eu-only\s+Only West Europe\s+Default", text), text
        page.goto(emu.endpoint + f"/portal/#/activity/{sub}")
        page.wait_for_selector("text=Activity log events")
        assert "RequestDisallowedByPolicy" in page.inner_text("main")
        shot(page, "11-policy")
        assert not page.errors, page.errors
    finally:
        emu.request(
            "DELETE",
            f"/subscriptions/{sub}/providers/Microsoft.Authorization/policyAssignments/eu-only?api-version=2023-04-01",
        )
