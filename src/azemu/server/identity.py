"""Emulated Entra ID: OpenID discovery, JWKS, instance discovery and the token endpoint (v1 and v2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain.emulator import Emulator
from azemu.domain.tenancy import AadError
from azemu.server.tokens import DEFAULT_LIFETIME, TokenService


def _aad_error(err: AadError) -> Response:
    return Response(
        err.status,
        {
            "error": err.error,
            "error_description": err.description,
            "error_codes": [err.aadsts],
            "timestamp": "",
            "trace_id": "",
            "correlation_id": "",
        },
    )


class Identity:
    def __init__(self, emulator: Emulator, tokens: TokenService) -> None:
        self.emulator = emulator
        self.tokens = tokens

    def register(self, router: Router) -> None:
        for pattern in (
            "/{tenant}/v2.0/.well-known/openid-configuration",
            "/{tenant}/.well-known/openid-configuration",
        ):
            router.add("GET", pattern, self.openid_configuration, api=None, auth=False)
        for pattern in ("/{tenant}/discovery/v2.0/keys", "/{tenant}/discovery/keys"):
            router.add("GET", pattern, self.keys, api=None, auth=False)
        router.add("GET", "/common/discovery/instance", self.instance_discovery, api=None, auth=False)
        router.add("POST", "/{tenant}/oauth2/v2.0/token", self.token, api=None, auth=False)
        router.add("POST", "/{tenant}/oauth2/token", self.token, api=None, auth=False)

    def _tenant(self, req: Request) -> tuple[str, str]:
        """(tenant id for claims, tenant segment as the client wrote it)."""
        seg = req.params["tenant"]
        tenant = self.emulator.tenancy.resolve_tenant(seg, self.emulator.defaults.tenant_id)
        return tenant.id, seg

    def openid_configuration(self, req: Request) -> Response:
        base = req.scheme_host
        try:
            tid, _ = self._tenant(req)
        except AadError as err:
            return _aad_error(err)
        v2 = "/v2.0/" in req.path
        issuer = f"{base}/{tid}/v2.0" if v2 else f"https://sts.windows.net/{tid}/"
        doc: dict[str, Any] = {
            "issuer": issuer,
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token" if v2 else f"{base}/{tid}/oauth2/token",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize"
            if v2
            else f"{base}/{tid}/oauth2/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
                "private_key_jwt",
            ],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "azemu.local",
            "msgraph_host": "graph.microsoft.com",
        }
        return Response(200, doc)

    def keys(self, req: Request) -> Response:
        return Response(200, self.tokens.jwks())

    def instance_discovery(self, req: Request) -> Response:
        host = req.scheme_host.split("://", 1)[1]
        return Response(
            200,
            {
                "tenant_discovery_endpoint": f"{req.scheme_host}/common/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            },
        )

    def token(self, req: Request) -> Response:
        try:
            tid, _ = self._tenant(req)
            form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
            grant = form.get("grant_type", "")
            if grant != "client_credentials":
                raise AadError(
                    400,
                    "unsupported_grant_type",
                    70003,
                    f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
                )
            client_id = form.get("client_id", "")
            secret = form.get("client_secret", "")
            if not client_id:
                raise AadError(
                    400,
                    "invalid_request",
                    900144,
                    "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
                )
            if not secret and "client_assertion" not in form:
                raise AadError(
                    401,
                    "invalid_client",
                    7000218,
                    "AADSTS7000218: The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                )
            tenant = self.emulator.tenancy.resolve_tenant(tid, self.emulator.defaults.tenant_id)
            sp = self.emulator.tenancy.authenticate_client(tenant, client_id, secret)
        except AadError as err:
            return _aad_error(err)
        scope = form.get("scope") or ""
        audience = self.tokens.audience_for_scope(scope) if scope else form.get("resource", "")
        if not audience:
            return _aad_error(
                AadError(
                    400, "invalid_scope", 1002012, "AADSTS1002012: The provided value for scope is not valid."
                )
            )
        token = self.tokens.issue(
            tenant_id=tenant.id, client_id=client_id, object_id=sp.object_id, audience=audience
        )
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": DEFAULT_LIFETIME,
            "ext_expires_in": DEFAULT_LIFETIME,
            "access_token": token,
        }
        if "/v2.0/" not in req.path:
            body["resource"] = audience
        return Response(200, body, headers={"Cache-Control": "no-store, no-cache"})
