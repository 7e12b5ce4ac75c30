"""One test per attack on tokens, tenants, names and SAS URLs that tests/api/test_auth_and_tenancy.py and the
SAS tests in tests/api/test_capture_sdk.py do not already make (forged signatures, alg none, expired, wrong
audience, another tenant on a subscription, revoked SAS live there)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests import vmkit

RG = "secRG"


def _key(azemu):
    return serialization.load_pem_private_key(azemu.data.signing_key_pem, password=None)


def _claims(azemu, **over):
    now = int(time.time())
    claims = {
        "aud": "https://management.azure.com/",
        "iss": f"https://sts.windows.net/{azemu.tenant_id}/",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "tid": azemu.tenant_id,
        "oid": str(uuid.uuid4()),
        "appid": azemu.client_id,
    }
    claims.update(over)
    return claims


def _kid(azemu):
    return jwt.get_unverified_header(azemu.token())["kid"]


def _get_groups(azemu, token):
    return azemu.request(
        "GET", f"/subscriptions/{azemu.subscription_id}/resourcegroups?api-version=2024-11-01", auth=token
    )


def _refused(azemu, token, code="InvalidAuthenticationToken"):
    status, body, headers = _get_groups(azemu, token)
    assert status == 401, body
    assert body["error"]["code"] == code
    assert headers["www-authenticate"].startswith("Bearer ")


def test_a_well_formed_token_signed_with_the_key_is_accepted(azemu):
    # the baseline every attack below differs from in one thing only
    token = jwt.encode(_claims(azemu), _key(azemu), algorithm="RS256", headers={"kid": _kid(azemu)})
    assert _get_groups(azemu, token)[0] == 200


def test_hs256_signed_with_the_public_key_is_refused(azemu):
    # algorithm confusion: the published public key used as an HMAC secret
    public_pem = (
        _key(azemu)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": _kid(azemu)}
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(_claims(azemu)).encode())}"
    sig = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused(azemu, f"{signing_input}.{b64(sig)}")


def test_a_foreign_kid_is_refused(azemu):
    token = jwt.encode(_claims(azemu), _key(azemu), algorithm="RS256", headers={"kid": "someone-elses-key"})
    _refused(azemu, token)


def test_a_token_not_yet_valid_is_refused(azemu):
    later = int(time.time()) + 3600
    _refused(azemu, jwt.encode(_claims(azemu, nbf=later, iat=later), _key(azemu), algorithm="RS256"))
    # within the 5 minutes of clock skew Entra ID allows, it is accepted
    soon = int(time.time()) + 60
    assert _get_groups(azemu, jwt.encode(_claims(azemu, nbf=soon), _key(azemu), algorithm="RS256"))[0] == 200


def test_a_token_from_the_wrong_issuer_is_refused(azemu):
    _refused(azemu, jwt.encode(_claims(azemu, iss="https://evil.example/"), _key(azemu), algorithm="RS256"))
    other = str(uuid.uuid4())
    _refused(
        azemu,
        jwt.encode(_claims(azemu, iss=f"https://sts.windows.net/{other}/"), _key(azemu), algorithm="RS256"),
    )


@pytest.fixture(scope="module")
def other_tenant(azemu):
    t2 = azemu.admin("POST", "/tenants", {"displayName": "Mallory"})
    s2 = azemu.admin("POST", f"/tenants/{t2['tenantId']}/subscriptions", {"displayName": "Mallory sub"})
    return t2["tenantId"], s2["subscriptionId"], azemu.token(tenant_id=t2["tenantId"], client_id="mallory")


@pytest.fixture(scope="module")
def victim(azemu):
    c = vmkit.clients(azemu)
    vmkit.ensure_group(c, RG)
    vm = vmkit.linux_vm(c, RG, "secvm")
    vmkit.run(c, RG, "secvm", "echo secret > /root/secret.txt")
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute"
    gal = f"{base}/galleries/secgal"
    azemu.request("PUT", gal + "?api-version=2024-03-03", {"location": "eastus"})
    return vm, gal


def test_another_tenants_token_reaches_none_of_this_tenants_resources(azemu, other_tenant, victim):
    _, _, token = other_tenant
    vm, gal = victim
    sub = azemu.subscription_id
    paths = [
        ("GET", f"{vm.id}?api-version=2024-11-01", None),
        ("GET", f"{vm.id}/instanceView?api-version=2024-11-01", None),
        (
            "POST",
            f"{vm.id}/runCommand?api-version=2024-11-01",
            {"commandId": "RunShellScript", "script": ["id"]},
        ),
        ("DELETE", f"{vm.id}?api-version=2024-11-01", None),
        ("PUT", f"/subscriptions/{sub}/resourcegroups/{RG}?api-version=2024-11-01", {"location": "eastus"}),
        ("GET", f"{gal}?api-version=2024-03-03", None),
        ("POST", f"{gal}/share?api-version=2024-03-03", {"operationType": "Add", "groups": []}),
        (
            "GET",
            f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/eastus/sharedGalleries?api-version=2024-03-03",
            None,
        ),
        ("GET", f"/subscriptions/{sub}/resources?api-version=2024-11-01", None),
    ]
    for method, path, body in paths:
        status, answer, _ = azemu.request(method, path, body, auth=token)
        assert status == 401, (method, path, status, answer)
        assert answer["error"]["code"] == "InvalidAuthenticationTokenTenant"
    assert vmkit.clients(azemu).compute.virtual_machines.get(RG, "secvm").provisioning_state == "Succeeded"


def test_another_tenant_sees_nothing_of_this_tenant_through_the_admin_api(azemu, other_tenant, victim):
    tenant2, _, token = other_tenant
    vm, _ = victim
    status, body, _ = azemu.request("GET", f"/_azemu/guest/file?vm={vm.id}&path=/root/secret.txt", auth=token)
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationTokenTenant"
    status, body, _ = azemu.request("GET", "/_azemu/tenants", auth=token)
    assert status == 200 and [t["tenantId"] for t in body["value"]] == [tenant2]
    status, body, _ = azemu.request("GET", f"/_azemu/tenants/{azemu.tenant_id}/subscriptions", auth=token)
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"
    status, body, _ = azemu.request("GET", "/_azemu/operations", auth=token)
    assert status == 200 and not [
        o for o in body["value"] if azemu.subscription_id in (o["resourceId"] or "")
    ]
    for method, path, payload in [
        ("POST", "/_azemu/reset", None),
        ("POST", "/_azemu/clock", {"advance": 1}),
        ("POST", "/_azemu/faults", {"kind": "virtualMachines.create", "action": "fail"}),
        ("POST", "/_azemu/gc", None),
        ("POST", "/_azemu/capture", {"vm": vm.id, "image": "stolen"}),
    ]:
        status, body, _ = azemu.request(method, path, payload, auth=token)
        assert status in (401, 403), (path, status, body)
    # the operator still sees everything
    assert len(azemu.admin("GET", "/tenants")["value"]) >= 2


def test_a_rotated_secret_cannot_be_replayed(azemu):
    t = azemu.admin("POST", "/tenants", {"displayName": "Rotating"})["tenantId"]
    azemu.admin("POST", f"/tenants/{t}/servicePrincipals", {"clientId": "rot-app", "secret": "old-secret"})
    form = "grant_type=client_credentials&client_id=rot-app&client_secret={}&scope=https://management.azure.com/.default"

    def token_with(secret):
        return azemu.request(
            "POST",
            f"/{t}/oauth2/v2.0/token",
            raw_body=form.format(secret).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=False,
        )

    status, issued, _ = token_with("old-secret")
    assert status == 200
    azemu.admin("POST", f"/tenants/{t}/servicePrincipals", {"clientId": "rot-app", "secret": "new-secret"})
    status, body, _ = token_with("old-secret")  # the captured request, replayed
    assert status == 401 and "AADSTS7000215" in body["error_description"]
    assert token_with("new-secret")[0] == 200
    # as in Entra ID, an access token issued before the rotation stays valid until it expires
    status, _, _ = azemu.request("GET", "/subscriptions?api-version=2022-12-01", auth=issued["access_token"])
    assert status == 200


NAME_ATTACKS = [
    "..",
    "../../../../tmp/azemu-pwned",
    "%2e%2e%2f%2e%2e%2fazemu-pwned",
    "a%2Fb",
    "a%5Cb",
    "vm%00evil",
    "x" * 300,
    "v\u0430m",  # Cyrillic a: a confusable, not a valid name character
    "vm\u200b",  # zero-width space
    "con",
    "-leading",
    "trailing.",
]


@pytest.mark.parametrize("name", NAME_ATTACKS)
def test_hostile_names_get_azure_validation_errors_and_touch_nothing_outside(azemu, name):
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups"
    name = "".join(ch if ord(ch) < 128 else quote(ch) for ch in name)  # on the wire, UTF-8 percent-encoded
    before = {p.name for p in Path(azemu.data_dir).parent.iterdir()}
    for path, body in [
        (f"{base}/{name}?api-version=2024-11-01", {"location": "eastus"}),
        (
            f"{base}/{RG}/providers/Microsoft.Compute/disks/{name}?api-version=2025-01-02",
            {
                "location": "eastus",
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 4},
            },
        ),
        (
            f"{base}/{RG}/providers/Microsoft.Compute/galleries/{name}?api-version=2024-03-03",
            {"location": "eastus"},
        ),
    ]:
        status, answer, _ = azemu.request("PUT", path, body)
        assert status < 500, (path, answer)
        if status >= 400:
            assert answer["error"]["code"], answer
        else:  # accepted only where Azure accepts the name; then it reads back as itself
            assert azemu.request("GET", path)[0] == 200
    assert not Path("/tmp/azemu-pwned").exists()
    new = {p.name for p in Path(azemu.data_dir).parent.iterdir()} - before
    assert not [n for n in new if "pwned" in n], new


def test_guest_paths_stay_inside_the_guest(azemu, victim):
    c = vmkit.clients(azemu)
    out = (
        vmkit.run(c, RG, "secvm", "echo owned > /../../../../tmp/azemu-guest-escape; cat /../../etc/hostname")
        .value[0]
        .message
    )
    assert "secvm" in out
    assert not Path("/tmp/azemu-guest-escape").exists()
    status, body, _ = azemu.request(
        "GET", f"/_azemu/guest/file?vm={victim[0].id}&path=/../../../../etc/passwd"
    )  # the guest's /etc/passwd, never the host's
    assert status == 200 and "azureuser" in str(body)


@pytest.fixture(scope="module")
def two_sas(azemu, victim):
    base = f"/subscriptions/{azemu.subscription_id}/resourceGroups/{RG}/providers/Microsoft.Compute/disks"
    urls = []
    for name in ("sas-a", "sas-b"):
        azemu.request(
            "PUT",
            f"{base}/{name}?api-version=2025-01-02",
            {
                "location": "eastus",
                "properties": {"creationData": {"createOption": "Empty"}, "diskSizeGB": 1},
            },
        )
        grant = (
            vmkit.clients(azemu)
            .compute.disks.begin_grant_access(RG, name, {"access": "Read", "durationInSeconds": 3600})
            .result()
        )
        urls.append(grant.access_sas)
    return urls


def _sas_status(azemu, url):
    path = url.split(azemu.endpoint, 1)[1]
    status, body, _ = azemu.request("HEAD", path, auth=False)
    return status, body


def test_sas_of_another_disk_and_tampered_sas_are_refused(azemu, two_sas):
    a, b = two_sas
    assert _sas_status(azemu, a)[0] == 200 and _sas_status(azemu, b)[0] == 200
    token_a = a.split("/_azemu/sas/", 1)[1].split("/", 1)[0]
    token_b = b.split("/_azemu/sas/", 1)[1].split("/", 1)[0]
    sig_a = a.split("sig=", 1)[1].split("&", 1)[0]
    swapped = b.replace(b.split("sig=", 1)[1].split("&", 1)[0], sig_a)  # disk b's URL with disk a's signature
    assert _sas_status(azemu, swapped)[0] == 403
    assert (
        _sas_status(azemu, a.replace(token_a, token_b))[0] == 403
    )  # disk b's token under disk a's signature
    flipped = a.replace("sig=" + sig_a, "sig=" + sig_a[:-2] + ("AA" if sig_a[-2:] != "AA" else "BB"))
    assert _sas_status(azemu, flipped)[0] == 403
    assert _sas_status(azemu, a.split("sig=")[0])[0] == 403  # no signature at all
    traversal = a.split("/_azemu/sas/")[0] + "/_azemu/sas/..%2F..%2Fstate.db/x?sig=" + sig_a
    assert _sas_status(azemu, traversal)[0] in (403, 404)


def test_an_expired_sas_is_refused(azemu, two_sas):
    url = two_sas[1]
    azemu.admin("POST", "/clock", {"advance": 3601})  # past durationInSeconds on azemu's clock
    assert _sas_status(azemu, url)[0] == 403
