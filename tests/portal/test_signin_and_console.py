"""Sign-in with the authorization-code flow and PKCE, and the serial console's WebSocket, through the wire:
what the portal's browser does, without a browser. Table-driven where a newcomer adds a line."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from websockets.sync.client import connect

from azemu.server.signin import PORTAL_CLIENT_ID

SCOPE = "https://management.azure.com/.default openid offline_access"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(40)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize(azemu, redirect: str, challenge: str, **extra: str) -> tuple[int, dict[str, str], str]:
    """POST the sign-in page's form; (status, query of the redirect, Location)."""
    form = {
        "client_id": PORTAL_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect,
        "scope": SCOPE,
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }

    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(Keep, urllib.request.HTTPSHandler(context=azemu.ssl_context()))
    req = urllib.request.Request(
        azemu.endpoint + "/organizations/oauth2/v2.0/authorize",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
    )
    try:
        with opener.open(req) as resp:
            return resp.status, {}, ""
    except urllib.error.HTTPError as err:
        location = err.headers.get("Location") or ""
        return err.code, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)), location


def _redeem(azemu, code: str, redirect: str, verifier: str):
    form = {
        "grant_type": "authorization_code",
        "client_id": PORTAL_CLIENT_ID,
        "code": code,
        "redirect_uri": redirect,
        "code_verifier": verifier,
        "scope": SCOPE,
    }
    return azemu.request(
        "POST",
        "/organizations/oauth2/v2.0/token",
        raw_body=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=False,
    )


def _sign_in(azemu) -> str:
    verifier, challenge = _pkce()
    redirect = azemu.endpoint + "/portal/"
    status, query, _ = _authorize(azemu, redirect, challenge)
    assert status == 302 and query["state"] == "s1"
    status, body, _ = _redeem(azemu, query["code"], redirect, verifier)
    assert status == 200, body
    return str(body["access_token"])


def test_a_user_token_from_the_code_flow_reads_arm(azemu):
    token = _sign_in(azemu)
    status, body, _ = azemu.request("GET", "/subscriptions?api-version=2022-12-01", auth=token)
    assert status == 200 and azemu.subscription_id in [s["subscriptionId"] for s in body["value"]]


def test_the_sign_in_page_has_a_strict_content_security_policy(azemu):
    _, challenge = _pkce()
    q = urllib.parse.urlencode(
        {
            "client_id": PORTAL_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": azemu.endpoint + "/portal/",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    status, body, headers = azemu.request("GET", f"/organizations/oauth2/v2.0/authorize?{q}", auth=False)
    assert status == 200 and "Sign in" in body
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "<script" not in body


# (what the redeeming request changes, the AADSTS code Entra ID answers)
REDEMPTIONS = [
    ("verifier", "501481"),  # PKCE: another verifier
    ("redirect", "50011"),  # another redirect URI than the code was issued for
    ("again", "54005"),  # a code is redeemed once
]


@pytest.mark.parametrize(("change", "aadsts"), REDEMPTIONS)
def test_a_code_is_refused_with_entra_ids_error(azemu, change, aadsts):
    verifier, challenge = _pkce()
    redirect = azemu.endpoint + "/portal/"
    _, query, _ = _authorize(azemu, redirect, challenge)
    code = query["code"]
    if change == "again":
        assert _redeem(azemu, code, redirect, verifier)[0] == 200
    status, body, _ = _redeem(
        azemu,
        code,
        redirect + "other/" if change == "redirect" else redirect,
        "wrong-verifier" if change == "verifier" else verifier,
    )
    assert status == 400 and body["error"] == "invalid_grant"
    assert body["error_description"].startswith(f"AADSTS{aadsts}:")


# (redirect URI, accepted): codes go to loopback addresses and azemu itself, nowhere else
REDIRECTS = [
    ("http://localhost:8400", True),  # az login (interactive)
    ("http://127.0.0.1:39999/cb", True),
    ("https://evil.example.com/cb", False),
    ("http://10.1.2.3/cb", False),
]


@pytest.mark.parametrize(("redirect", "accepted"), REDIRECTS)
def test_codes_only_go_to_loopback_redirect_uris(azemu, redirect, accepted):
    _, challenge = _pkce()
    status, query, location = _authorize(azemu, redirect, challenge)
    if accepted:
        assert status == 302 and location.startswith(redirect) and "code" in query
    else:
        assert status == 400 and not location


def test_pkce_is_required(azemu):
    status, query, _ = _authorize(azemu, "http://localhost:8400", "", code_challenge_method="")
    assert status == 302 and query["error"] == "invalid_request" and "code" not in query


# the serial console ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linux_vm(azemu):
    azemu.az("group", "create", "-n", "consoleRG", "-l", "eastus", "-o", "none", check=True)
    azemu.az(
        "vm", "create", "-g", "consoleRG", "-n", "conVM", "--image", "Ubuntu2204", "--admin-username",
        "azureuser", "--admin-password", "Az3mu!Passw0rd", "--nsg-rule", "NONE", "-o", "none", check=True,
    )  # fmt: skip
    return (
        f"/subscriptions/{azemu.subscription_id}/resourceGroups/consoleRG/providers/Microsoft.Compute"
        "/virtualMachines/conVM"
    )


def _connect(azemu, vm_id: str, token: str) -> str:
    status, body, _ = azemu.request(
        "POST",
        f"{vm_id}/providers/Microsoft.SerialConsole/serialPorts/0/connect?api-version=2018-05-01",
        auth=token,
    )
    assert status == 200, body
    return str(body["connectionString"])


def _read(ws, until: str, seconds: float = 20) -> str:
    out, end = "", time.time() + seconds
    while until not in out and time.time() < end:
        try:
            out += ws.recv(timeout=0.5)
        except TimeoutError:
            pass
    assert until in out, out
    return out


@pytest.mark.az
def test_the_serial_console_logs_in_and_deprovisions_with_prompts(azemu, linux_vm):
    token = _sign_in(azemu)
    url = _connect(azemu, linux_vm, token)
    with connect(f"{url}?authorization={token}", ssl=azemu.ssl_context(), origin=azemu.endpoint) as ws:
        _read(ws, "conVM login: ")
        ws.send("azureuser\r")
        _read(ws, "Password: ")
        ws.send("wrong\r")
        _read(ws, "Login incorrect")
        ws.send("azureuser\r")
        _read(ws, "Password: ")
        ws.send("Az3mu!Passw0rd\r")
        _read(ws, "azureuser@conVM:~$ ")
        ws.send("sudo waagent -deprovision+user\r")
        _read(ws, "Do you want to proceed (y/n)")
        ws.send("y\r")
        _read(ws, "$ ")
        ws.send("hostname\r")
        assert "localhost.localdomain" in _read(ws, "localhost.localdomain")
        # waagent deleted the signed-in user: sudo no longer knows who asks (as on a real VM)
        ws.send("sudo shutdown -h now\r")
        _read(ws, "sudo: you do not exist in the passwd database")
        # the VM stopped from outside (the portal's Stop): the console sees it go
        status, _, _ = azemu.request("POST", f"{linux_vm}/powerOff?api-version=2024-11-01", auth=token)
        assert status in (200, 202)
        _read(ws, "the serial console is disconnected")
    status, vm, _ = azemu.request("GET", f"{linux_vm}/instanceView?api-version=2024-11-01")
    assert status == 200
    assert "PowerState/stopped" in [s["code"] for s in vm["statuses"]]


# (how the WebSocket is opened, why it is refused)
REFUSALS = [
    ("no token", lambda url, token, endpoint: (url, endpoint)),
    ("a bad token", lambda url, token, endpoint: (f"{url}?authorization=x.y.z", endpoint)),
    ("another origin", lambda url, token, endpoint: (f"{url}?authorization={token}", "https://evil.example")),
    ("an unknown ticket", lambda url, token, endpoint: (f"{url.rsplit('/', 2)[0]}/nope/client?authorization={token}", endpoint)),
]  # fmt: skip


@pytest.mark.az
@pytest.mark.parametrize(("why", "how"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_the_serial_console_websocket_is_refused(azemu, linux_vm, why, how):
    token = _sign_in(azemu)
    url = _connect(azemu, linux_vm, token)
    address, origin = how(url, token, azemu.endpoint)
    with pytest.raises(Exception, match="403"), connect(address, ssl=azemu.ssl_context(), origin=origin):
        pass


@pytest.mark.az
def test_a_console_ticket_is_for_its_tenant_only(azemu, linux_vm):
    other = azemu.admin("POST", "/tenants", {"displayName": "Other"})["tenantId"]
    url = _connect(azemu, linux_vm, _sign_in(azemu))
    foreign = azemu.token(tenant_id=other)
    with (
        pytest.raises(Exception, match="403"),
        connect(f"{url}?authorization={foreign}", ssl=azemu.ssl_context(), origin=azemu.endpoint),
    ):
        pass


@pytest.mark.az
def test_the_windows_serial_console_runs_sysprep(azemu):
    azemu.az("group", "create", "-n", "winConsoleRG", "-l", "eastus", "-o", "none", check=True)
    azemu.az(
        "vm", "create", "-g", "winConsoleRG", "-n", "winVM", "--image", "Win2022Datacenter", "--admin-username",
        "azureadmin", "--admin-password", "Az3mu!Passw0rd12", "--nsg-rule", "NONE", "-o", "none", check=True,
    )  # fmt: skip
    vm_id = (
        f"/subscriptions/{azemu.subscription_id}/resourceGroups/winConsoleRG/providers/Microsoft.Compute"
        "/virtualMachines/winVM"
    )
    token = _sign_in(azemu)
    url = _connect(azemu, vm_id, token)
    with connect(f"{url}?authorization={token}", ssl=azemu.ssl_context(), origin=azemu.endpoint) as ws:
        _read(ws, "SAC>")
        ws.send("cmd\r")
        _read(ws, "Channel: Cmd0001")
        ws.send("ch -si 1\r")
        _read(ws, "Username: ")
        for line, prompt in (
            ("azureadmin", "Domain  : "),
            ("", "Password: "),
            ("Az3mu!Passw0rd12", "system32>"),
        ):
            ws.send(line + "\r")
            _read(ws, prompt)
        ws.send("hostname\r")
        _read(ws, "winVM")
        ws.send("C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown\r")
        _read(ws, "the serial console is disconnected")
    status, view, _ = azemu.request("GET", f"{vm_id}/instanceView?api-version=2024-11-01")
    assert status == 200 and "PowerState/stopped" in [s["code"] for s in view["statuses"]]
