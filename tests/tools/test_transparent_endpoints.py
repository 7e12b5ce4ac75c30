"""azemu answering as Azure's own hosts through its loopback proxy, and the token flows public-cloud tools use.

Clients here are configured for the **public cloud** (no authority, no base URL, instance discovery on):
``azemu env --proxy`` is all they get.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import jwt
import msal
import pytest
import requests
from azure.identity import CertificateCredential, ClientSecretCredential
from azure.mgmt.resource.resources import ResourceManagementClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.conftest import requires_az

ARM = "https://management.azure.com"
LOGIN = "https://login.microsoftonline.com"


@pytest.fixture
def public_cloud(azemu, monkeypatch):
    """This process as a public-cloud tool: ``eval "$(azemu env --proxy)"``."""
    for key, value in azemu.proxy_env().items():
        monkeypatch.setenv(key, value)
    for key in ("AZURE_AUTHORITY_HOST", "AZURE_CORE_INSTANCE_DISCOVERY"):
        monkeypatch.delenv(key, raising=False)
    return azemu


def _connect(azemu, request: bytes) -> tuple[int, str]:
    with socket.create_connection(("127.0.0.1", azemu.proxy_port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and request.startswith(b"CONNECT") and data.startswith(b"HTTP/1.1 200"):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


@pytest.mark.parametrize(
    "request_line",
    [
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        b"CONNECT pypi.org:443 HTTP/1.1\r\n\r\n",
        b"CONNECT management.azure.com:80 HTTP/1.1\r\n\r\n",  # an Azure host, but not HTTPS
        b"CONNECT management.azure.com.evil.example:443 HTTP/1.1\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",  # plain HTTP through the proxy
    ],
)
def test_the_proxy_refuses_anything_that_is_not_azures(azemu, request_line):
    status, body = _connect(azemu, request_line)
    assert status == 403
    assert "azemu's proxy answers only for Azure's own hosts" in body
    assert "nothing was forwarded" in body


def test_the_proxy_tunnels_azures_hosts_to_azemu(azemu):
    status, _ = _connect(azemu, b"CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n")
    assert status == 200


def test_requests_to_a_non_azure_host_fail_clearly(public_cloud):
    with pytest.raises(requests.exceptions.ProxyError) as info:
        requests.get("https://example.com/", timeout=10)
    assert "403" in str(info.value)


def test_unauthenticated_subscription_get_names_the_tenant(public_cloud):
    """Tenant discovery as Packer and az do it: ARM's 401 challenge names the subscription's tenant."""
    r = requests.get(f"{ARM}/subscriptions/{public_cloud.subscription_id}?api-version=2022-12-01", timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith(
        f'Bearer authorization_uri="https://login.windows.net/{public_cloud.tenant_id}", error="invalid_token"'
    )


def test_a_public_cloud_sdk_client_reaches_arm(public_cloud):
    cred = ClientSecretCredential(public_cloud.tenant_id, public_cloud.client_id, public_cloud.client_secret)
    rm = ResourceManagementClient(cred, public_cloud.subscription_id)
    rm.resource_groups.create_or_update("publicCloudRG", {"location": "eastus"})
    assert "publicCloudRG" in {g.name for g in rm.resource_groups.list()}
    claims = jwt.decode(cred.get_token(f"{ARM}/.default").token, options={"verify_signature": False})
    assert claims["aud"] == f"{ARM}/" and claims["tid"] == public_cloud.tenant_id


def test_adal_v1_token_with_resource(public_cloud):
    """What go-autorest (Packer 1.6) sends: v1 endpoint, ``resource``, numbers as strings, ``expires_on``."""
    r = requests.post(
        f"{LOGIN}/{public_cloud.tenant_id}/oauth2/token?api-version=1.0",
        data={
            "grant_type": "client_credentials",
            "client_id": public_cloud.client_id,
            "client_secret": public_cloud.client_secret,
            "resource": "https://management.core.windows.net/",
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["resource"] == "https://management.core.windows.net/"
    assert int(body["expires_on"]) > time.time() + 3000 and body["expires_in"] == "3599"
    arm = requests.get(
        f"{ARM}/subscriptions/{public_cloud.subscription_id}/resourcegroups?api-version=2022-09-01",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert arm.status_code == 200


def _certificate(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "azemu-test-app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "app.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


def test_client_certificate_credential(public_cloud, tmp_path):
    app = str(uuid.uuid4())
    cred = CertificateCredential(public_cloud.tenant_id, app, str(_certificate(tmp_path)))
    token = cred.get_token(f"{ARM}/.default").token
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["appid"] == app
    r = requests.get(
        f"{ARM}/subscriptions/{public_cloud.subscription_id}?api-version=2022-12-01",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200


def test_a_bad_client_assertion_is_refused(public_cloud):
    forged = jwt.encode(
        {"iss": "someone-else", "sub": "someone-else", "aud": "x", "exp": int(time.time()) + 600},
        "a-shared-secret-is-no-certificate-at-all",
        algorithm="HS256",
    )
    r = requests.post(
        f"{LOGIN}/{public_cloud.tenant_id}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": public_cloud.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": forged,
            "scope": f"{ARM}/.default",
        },
        timeout=10,
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_device_code_refresh_token_and_graph_me(public_cloud):
    """MSAL's device-code flow (az login --use-device-code): azemu signs its user in at once; the refresh
    token buys a Graph token, and Graph's /me reads back the same object id."""
    app = msal.PublicClientApplication(
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46", authority=f"{LOGIN}/{public_cloud.tenant_id}"
    )
    flow = app.initiate_device_flow(scopes=[f"{ARM}/.default"])
    assert flow["user_code"] and "devicelogin" in flow["verification_uri"]
    flow["expires_at"] = time.time() + 60
    result = app.acquire_token_by_device_flow(flow)
    assert "access_token" in result, result
    arm_claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert arm_claims["idtyp"] == "user" and arm_claims["upn"].startswith("azemu@")
    graph = app.acquire_token_by_refresh_token(
        result["refresh_token"], scopes=["https://graph.microsoft.com/.default"]
    )
    assert "access_token" in graph, graph
    me = requests.get(
        "https://graph.microsoft.com/v1.0/me",
        headers={"Authorization": f"Bearer {graph['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 200
    assert me.json()["id"] == arm_claims["oid"]
    subs = requests.get(
        f"{ARM}/subscriptions?api-version=2022-12-01",
        headers={"Authorization": f"Bearer {result['access_token']}"},
        timeout=10,
    )
    assert [s["subscriptionId"] for s in subs.json()["value"]] == [public_cloud.subscription_id]


def test_adal_v1_device_code(public_cloud):
    """ADAL's device flow (Packer 1.6 without a client secret): v1 endpoints, ``code=``, strings."""
    client = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    start = requests.post(
        f"{LOGIN}/common/oauth2/devicecode?api-version=1.0",
        data={"client_id": client, "resource": "https://management.core.windows.net/"},
        timeout=10,
    ).json()
    assert start["interval"] == "1" and "verification_url" in start
    token = requests.post(
        f"{LOGIN}/common/oauth2/token?api-version=1.0",
        data={
            "grant_type": "device_code",
            "client_id": client,
            "code": start["device_code"],
            "resource": "https://management.core.windows.net/",
        },
        timeout=10,
    ).json()
    assert token["resource"] == "https://management.core.windows.net/" and token["refresh_token"]
    again = requests.post(  # a device code is redeemed once
        f"{LOGIN}/common/oauth2/token?api-version=1.0",
        data={
            "grant_type": "device_code",
            "client_id": client,
            "code": start["device_code"],
            "resource": ARM,
        },
        timeout=10,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_graph_service_principal_is_the_tokens_object_id(public_cloud):
    cred = ClientSecretCredential(public_cloud.tenant_id, public_cloud.client_id, public_cloud.client_secret)
    token = cred.get_token("https://graph.microsoft.com/.default").token
    oid = jwt.decode(token, options={"verify_signature": False})["oid"]
    flt = urllib.parse.quote(f"appId eq '{public_cloud.client_id}'")
    r = requests.get(
        f"https://graph.microsoft.com/v1.0/servicePrincipals?$filter={flt}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200 and [sp["id"] for sp in r.json()["value"]] == [oid]
    me = requests.get(
        "https://graph.microsoft.com/v1.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert me.status_code == 400  # /me needs a user: Graph's own answer to an application


def test_the_server_certificate_names_azures_hosts(azemu):
    cert = x509.load_pem_x509_certificate(azemu.data.tls.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert {
        "management.azure.com",
        "login.microsoftonline.com",
        "login.windows.net",
        "graph.microsoft.com",
    } <= set(names)


@requires_az
@pytest.mark.az
def test_az_with_the_public_cloud_through_the_proxy(azemu):
    """The real az CLI in its own AzureCloud (no registered cloud, instance discovery on)."""
    az = os.environ.get("AZEMU_AZ_CLI") or "az"
    with tempfile.TemporaryDirectory() as config:
        env = {
            **os.environ,
            **azemu.proxy_env(),
            "AZURE_CONFIG_DIR": config,
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
        }
        env.pop("AZURE_CORE_INSTANCE_DISCOVERY", None)
        login = subprocess.run(
            [az, "login", "--service-principal", "-u", azemu.client_id, "-p", azemu.client_secret,
             "--tenant", azemu.tenant_id, "-o", "json"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert login.returncode == 0, login.stderr
        assert [s["id"] for s in json.loads(login.stdout)] == [azemu.subscription_id]
        cloud = subprocess.run([az, "cloud", "show", "-o", "json"], env=env, capture_output=True, text=True)
        assert json.loads(cloud.stdout)["name"] == "AzureCloud"
        made = subprocess.run(
            [az, "group", "create", "-n", "azPublicRG", "-l", "eastus", "-o", "json"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        token = subprocess.run(
            [az, "account", "get-access-token", "-o", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (
            jwt.decode(json.loads(token.stdout)["accessToken"], options={"verify_signature": False})["tid"]
            == azemu.tenant_id
        )
