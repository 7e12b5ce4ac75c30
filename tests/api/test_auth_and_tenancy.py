"""Tokens are RS256 JWTs checked on every request; tenants and subscriptions are isolated."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import ResourceGroup
from azure.mgmt.resource.subscriptions import SubscriptionClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _rg_path(azemu, sub=None, name="authRG"):
    return f"/subscriptions/{sub or azemu.subscription_id}/resourcegroups/{name}?api-version=2024-11-01"


def test_token_is_an_rs256_jwt_verifiable_with_the_published_jwks(azemu):
    token = azemu.token()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    status, jwks, _ = azemu.request("GET", f"/{azemu.tenant_id}/discovery/v2.0/keys", auth=False)
    assert status == 200
    key = jwt.PyJWK(jwks["keys"][0]).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="https://management.azure.com/")
    assert claims["tid"] == azemu.tenant_id
    assert claims["appid"] == azemu.client_id
    assert claims["exp"] > claims["iat"]
    assert uuid.UUID(claims["oid"])


def test_missing_token_is_401_with_envelope_and_challenge(azemu):
    status, body, headers = azemu.request("GET", _rg_path(azemu), auth=False)
    assert status == 401
    assert body == {
        "error": {
            "code": "AuthenticationFailed",
            "message": "Authentication failed. The 'Authorization' header is missing.",
        }
    }
    assert headers["www-authenticate"].startswith("Bearer authorization_uri=")


def test_malformed_authorization_header(azemu):
    status, body, _ = azemu.request(
        "GET", _rg_path(azemu), headers={"Authorization": "Basic abc"}, auth=False
    )
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"


def _signing_key(azemu):
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


def test_expired_token_is_401(azemu):
    token = jwt.encode(
        _claims(azemu, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
        _signing_key(azemu),
        algorithm="RS256",
    )
    status, body, headers = azemu.request("GET", _rg_path(azemu), auth=token)
    assert status == 401
    assert body["error"]["code"] == "ExpiredAuthenticationToken"
    assert "is earlier than current UTC time" in body["error"]["message"]
    assert "www-authenticate" in headers


def test_forged_token_is_401(azemu):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(azemu), other, algorithm="RS256")
    status, body, _ = azemu.request("GET", _rg_path(azemu), auth=forged)
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    unsigned = jwt.encode(_claims(azemu), "", algorithm="none")
    status, body, _ = azemu.request("GET", _rg_path(azemu), auth=unsigned)
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    status, body, _ = azemu.request("GET", _rg_path(azemu), auth="not-a-jwt")
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"


def test_token_for_another_audience_is_401(azemu):
    graph = azemu.token(scope="https://graph.microsoft.com/.default")
    status, body, _ = azemu.request("GET", _rg_path(azemu), auth=graph)
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationTokenAudience"
    own = azemu.token(scope=f"{azemu.endpoint}/.default")  # what az asks for with the registered cloud
    status, _, _ = azemu.request(
        "GET", f"/subscriptions/{azemu.subscription_id}?api-version=2022-12-01", auth=own
    )
    assert status == 200


def test_unknown_tenant_at_token_endpoint(azemu):
    cred_cls = type(azemu.credential())
    cred = cred_cls(
        "nosuchtenant.example",
        azemu.client_id,
        "x",
        authority=azemu.endpoint,
        disable_instance_discovery=True,
        connection_verify=azemu.ca_bundle,
    )
    with pytest.raises(ClientAuthenticationError, match="Unable to get authority configuration"):
        cred.get_token("https://management.azure.com/.default")
    status, body, _ = azemu.request(
        "POST",
        "/nosuchtenant.example/oauth2/v2.0/token",
        auth=False,
        raw_body=b"grant_type=client_credentials&client_id=a&client_secret=b&scope=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 400 and body["error"] == "invalid_request" and body["error_codes"] == [90002]


def test_tenants_and_subscriptions_are_isolated(azemu):
    t2 = azemu.admin("POST", "/tenants", {"displayName": "Contoso"})
    s2 = azemu.admin("POST", f"/tenants/{t2['tenantId']}/subscriptions", {"displayName": "Contoso sub"})
    cred2 = azemu.credential(tenant_id=t2["tenantId"], client_id="contoso-app", secret="anything")

    subs2 = SubscriptionClient(cred2, base_url=azemu.endpoint, connection_verify=azemu.ca_bundle)
    assert [s.subscription_id for s in subs2.subscriptions.list()] == [s2["subscriptionId"]]
    assert [t.tenant_id for t in subs2.tenants.list()] == [t2["tenantId"]]
    subs1 = SubscriptionClient(azemu.credential(), base_url=azemu.endpoint, connection_verify=azemu.ca_bundle)
    assert s2["subscriptionId"] not in [s.subscription_id for s in subs1.subscriptions.list()]

    rm2 = ResourceManagementClient(cred2, s2["subscriptionId"], **azemu.client_kwargs)
    rm2.resource_groups.create_or_update("shared-name", ResourceGroup(location="eastus"))
    rm1 = ResourceManagementClient(azemu.credential(), azemu.subscription_id, **azemu.client_kwargs)
    assert "shared-name" not in [g.name for g in rm1.resource_groups.list()]

    # tenant 2's token cannot reach tenant 1's subscription, and vice versa
    wrong = ResourceManagementClient(cred2, azemu.subscription_id, **azemu.client_kwargs)
    with pytest.raises(HttpResponseError) as info:
        list(wrong.resource_groups.list())
    assert info.value.status_code == 401
    assert info.value.error.code == "InvalidAuthenticationTokenTenant"
    status, body, _ = azemu.request(
        "GET", f"/subscriptions/{s2['subscriptionId']}/resourcegroups?api-version=2024-11-01"
    )
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationTokenTenant"
    status, body, _ = azemu.request(
        "GET", f"/subscriptions/{uuid.uuid4()}/resourcegroups?api-version=2024-11-01"
    )
    assert status == 404 and body["error"]["code"] == "SubscriptionNotFound"

    # only the operator tenant may change the admin state
    status, body, _ = azemu.request(
        "POST",
        "/_azemu/tenants",
        {"displayName": "x"},
        auth=azemu.token(tenant_id=t2["tenantId"], client_id="contoso-app"),
    )
    assert status == 403 and body["error"]["code"] == "AuthorizationFailed"


def test_configured_service_principals_are_enforced(azemu):
    t3 = azemu.admin("POST", "/tenants", {"displayName": "Strict"})
    azemu.admin(
        "POST", f"/tenants/{t3['tenantId']}/servicePrincipals", {"clientId": "app-1", "secret": "s3cret"}
    )
    good = azemu.credential(tenant_id=t3["tenantId"], client_id="app-1", secret="s3cret")
    assert good.get_token("https://management.azure.com/.default").token
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        azemu.credential(tenant_id=t3["tenantId"], client_id="app-1", secret="wrong").get_token(
            "https://management.azure.com/.default"
        )
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        azemu.credential(tenant_id=t3["tenantId"], client_id="stranger", secret="x").get_token(
            "https://management.azure.com/.default"
        )
