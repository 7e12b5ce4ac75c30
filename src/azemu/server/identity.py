"""Emulated Entra ID: OpenID discovery, JWKS, instance discovery, the token endpoint (v1 and v2), the
device-code endpoint, and the little of Microsoft Graph a tool asks about its own identity.

Token flows (``grant_type``), as az, MSAL, ADAL (Packer 1.6's go-autorest) and azure-identity send them:

- ``client_credentials`` with ``client_secret``, or ``client_assertion`` (a JWT signed with the client's
  certificate: its claims are checked - issuer, subject, audience, validity - and, since azemu keeps no
  certificates, a tenant whose principals are configured with secrets refuses assertions);
- ``urn:ietf:params:oauth:grant-type:device_code`` (v2) and ``device_code`` (v1, ``code=``): azemu signs
  the tenant's default user in at once, so the first poll returns the tokens (no one waits);
- ``password`` (ROPC) for a user of the tenant's domain; ``refresh_token`` for any resource (refresh tokens
  are multi-resource, as Entra ID's are);
- ``authorization_code`` with PKCE, the code from the interactive sign-in at ``/authorize``
  (:mod:`azemu.server.signin`: the portal's and ``az login``'s browser flow).

v1 answers carry ``resource``, ``expires_on`` and ``not_before`` as strings, as Entra ID's v1 endpoint does
(go-autorest reads ``expires_on`` to decide whether a token is fresh).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import jwt

from azemu.arm.http import Request, Response
from azemu.arm.router import Router
from azemu.domain.emulator import Emulator
from azemu.domain.tenancy import AadError
from azemu.server.signin import SignIn
from azemu.server.tokens import DEFAULT_LIFETIME, GRAPH_AUDIENCES, TokenService
from azemu.state.records import TenantRecord

DEVICE_CODE_LIFETIME = 900
_DEVICE_CODES_MAX = 1024
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_DEVICE_GRANTS = ("urn:ietf:params:oauth:grant-type:device_code", "device_code")


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


def _graph_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"error": {"code": code, "message": message, "innerError": {}}})


def _form(req: Request) -> dict[str, str]:
    return dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))


def _b64json(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


class Identity:
    def __init__(self, emulator: Emulator, tokens: TokenService) -> None:
        self.emulator = emulator
        self.tokens = tokens
        self._device_codes: dict[str, dict[str, Any]] = {}
        self.signin = SignIn(self)

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
        for pattern in ("/{tenant}/oauth2/v2.0/authorize", "/{tenant}/oauth2/authorize"):
            router.add("GET", pattern, self.signin.authorize, api=None, auth=False)
            router.add("POST", pattern, self.signin.authorize, api=None, auth=False)
        router.add("POST", "/{tenant}/oauth2/v2.0/devicecode", self.device_code, api=None, auth=False)
        router.add("POST", "/{tenant}/oauth2/devicecode", self.device_code, api=None, auth=False)
        # Microsoft Graph (graph.microsoft.com), where a tool asks who it is
        router.add("GET", "/v1.0/servicePrincipals", self.graph_service_principals, api=None, auth=False)
        router.add("GET", "/v1.0/{item}", self.graph_item, api=None, auth=False)

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
        aliases = [host]
        if host in ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com"):
            aliases = [
                "login.microsoftonline.com",
                "login.windows.net",
                "login.microsoft.com",
                "sts.windows.net",
            ]
        return Response(
            200,
            {
                "tenant_discovery_endpoint": f"{req.scheme_host}/common/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": aliases}],
            },
        )

    # users ---------------------------------------------------------------------------------------------
    def default(self, segment: str) -> tuple[str, dict[str, str]]:
        """(tenant id, the tenant's user) for a tenant named in an authority path (the sign-in page)."""
        tenant = self.emulator.tenancy.resolve_tenant(segment, self.emulator.defaults.tenant_id)
        return tenant.id, self._default_user(tenant)

    def user(self, tenant_id: str, name: str) -> dict[str, str]:
        tenant = self.emulator.tenancy.resolve_tenant(tenant_id, self.emulator.defaults.tenant_id)
        return self._user(tenant, name)

    def _default_user(self, tenant: TenantRecord) -> dict[str, str]:
        upn = f"azemu@{tenant.default_domain}"
        return {"upn": upn, "name": "azemu user", "oid": self.emulator.tenancy.object_id(tenant.id, upn)}

    def _user(self, tenant: TenantRecord, username: str) -> dict[str, str]:
        user = self._default_user(tenant)
        if username.lower() != user["upn"].lower():
            raise AadError(
                400,
                "invalid_grant",
                50034,
                f"AADSTS50034: The user account {username} does not exist in the {tenant.default_domain} "
                f"directory. To sign into this application, the account must be added to the directory. "
                f"(azemu's user in this tenant is {user['upn']}.)",
            )
        return user

    # the device-code endpoint ----------------------------------------------------------------------------
    def device_code(self, req: Request) -> Response:
        try:
            tid, _ = self._tenant(req)
        except AadError as err:
            return _aad_error(err)
        form = _form(req)
        client_id = form.get("client_id", "")
        if not client_id:
            return _aad_error(
                AadError(
                    400,
                    "invalid_request",
                    900144,
                    "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
                )
            )
        code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        if len(self._device_codes) >= _DEVICE_CODES_MAX:
            self._device_codes.pop(next(iter(self._device_codes)))
        self._device_codes[code] = {
            "tenant": tid,
            "client_id": client_id,
            "expires": time.time() + DEVICE_CODE_LIFETIME,
            "scope": form.get("scope", ""),
            "resource": form.get("resource", ""),
        }
        verification = f"{req.scheme_host}/devicelogin"
        message = (
            f"To sign in, use a web browser to open the page {verification} and enter the code {user_code} to "
            "authenticate. (azemu: nothing to do - its default user is signed in already.)"
        )
        if "/v2.0/" in req.path:
            body: dict[str, Any] = {
                "user_code": user_code,
                "device_code": code,
                "verification_uri": verification,
                "expires_in": DEVICE_CODE_LIFETIME,
                "interval": 1,
                "message": message,
            }
        else:  # v1 (ADAL): verification_url, and the numbers as strings
            body = {
                "user_code": user_code,
                "device_code": code,
                "verification_url": verification,
                "expires_in": str(DEVICE_CODE_LIFETIME),
                "interval": "1",
                "message": message,
            }
        return Response(200, body, headers={"Cache-Control": "no-store, no-cache"})

    # the token endpoint -----------------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        try:
            return self._token(req)
        except AadError as err:
            return _aad_error(err)

    def _token(self, req: Request) -> Response:
        tid, _ = self._tenant(req)
        tenant = self.emulator.tenancy.resolve_tenant(tid, self.emulator.defaults.tenant_id)
        form = _form(req)
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        if not client_id and grant != "refresh_token":
            raise AadError(
                400,
                "invalid_request",
                900144,
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            )
        v2 = "/v2.0/" in req.path
        user: dict[str, str] | None = None
        if grant == "client_credentials":
            object_id = self._client(req, tenant, client_id, form)
        elif grant in _DEVICE_GRANTS:
            code = form.get("device_code") or form.get("code") or ""
            asked = self._device_codes.get(code) or {}
            user = self._device_user(tenant, code, client_id)
            object_id = user["oid"]
            # the token request may leave out what the device-code request asked for (RFC 8628)
            if not form.get("scope") and not form.get("resource"):
                form["scope"], form["resource"] = asked.get("scope", ""), asked.get("resource", "")
        elif grant == "authorization_code":
            code_grant = self.signin.redeem(tenant.id, form)
            user = code_grant.user
            object_id = user["oid"]
            if not form.get("scope") and not form.get("resource"):
                form["scope"], form["resource"] = code_grant.scope, code_grant.resource
        elif grant == "password":
            user = self._user(tenant, form.get("username", ""))
            object_id = user["oid"]
        elif grant == "refresh_token":
            claims = self.tokens.read_refresh(form.get("refresh_token", ""))
            if claims is None or claims["tid"].lower() != tenant.id.lower():
                raise AadError(
                    400,
                    "invalid_grant",
                    9002313,
                    "AADSTS9002313: Invalid request. Request is malformed or invalid.",
                )
            client_id = client_id or claims["appid"]
            user = {"upn": claims["upn"], "name": claims["name"], "oid": claims["oid"]}
            object_id = user["oid"]
        else:
            raise AadError(
                400,
                "unsupported_grant_type",
                70003,
                f"AADSTS70003: The app requested an unsupported grant type '{grant}'.",
            )
        scope = form.get("scope") or ""
        audience = self._audience(scope) if scope else form.get("resource", "")
        if not audience:
            raise AadError(
                400, "invalid_scope", 1002012, "AADSTS1002012: The provided value for scope is not valid."
            )
        token = self.tokens.issue(
            tenant_id=tenant.id, client_id=client_id, object_id=object_id, audience=audience, user=user
        )
        now = int(time.time())
        body: dict[str, Any] = {"token_type": "Bearer"}
        if v2:
            body.update(expires_in=DEFAULT_LIFETIME, ext_expires_in=DEFAULT_LIFETIME)
            if scope:
                body["scope"] = " ".join(
                    s for s in scope.split() if s not in ("openid", "profile", "offline_access")
                )
        else:
            body.update(
                expires_in=str(DEFAULT_LIFETIME),
                ext_expires_in=str(DEFAULT_LIFETIME),
                expires_on=str(now + DEFAULT_LIFETIME),
                not_before=str(now),
                resource=audience,
            )
        body["access_token"] = token
        if user is not None:
            body["refresh_token"] = self.tokens.issue_refresh(
                tenant_id=tenant.id, client_id=client_id, user=user
            )
            body["id_token"] = self.tokens.issue_id_token(
                issuer=f"{req.scheme_host}/{tenant.id}/v2.0",
                tenant_id=tenant.id,
                client_id=client_id,
                user=user,
            )
            body["client_info"] = _b64json({"uid": user["oid"], "utid": tenant.id})
            if not v2:
                body["scope"] = "user_impersonation"
        return Response(200, body, headers={"Cache-Control": "no-store, no-cache"})

    @staticmethod
    def _audience(scope: str) -> str:
        """The resource a v2 scope list asks for (OIDC scopes aside)."""
        resources = [s for s in scope.split() if s not in ("openid", "profile", "offline_access", "email")]
        return TokenService.audience_for_scope(" ".join(resources)) if resources else ""

    def _client(self, req: Request, tenant: TenantRecord, client_id: str, form: dict[str, str]) -> str:
        """The object id of an application authenticating with a secret or a certificate assertion."""
        tenancy = self.emulator.tenancy
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != _ASSERTION_TYPE:
                raise AadError(
                    400,
                    "invalid_request",
                    50027,
                    "AADSTS50027: JWT token is invalid or malformed. (client_assertion_type must be "
                    f"'{_ASSERTION_TYPE}'.)",
                )
            self._check_assertion(req, assertion, client_id)
            return tenancy.authenticate_certificate(tenant, client_id).object_id
        secret = form.get("client_secret", "")
        if not secret:
            raise AadError(
                401,
                "invalid_client",
                7000218,
                "AADSTS7000218: The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
            )
        return tenancy.authenticate_client(tenant, client_id, secret).object_id

    @staticmethod
    def _check_assertion(req: Request, assertion: str, client_id: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AadError(
                400, "invalid_request", 50027, "AADSTS50027: JWT token is invalid or malformed."
            ) from None
        if not header.get("alg", "").upper().startswith(("RS", "PS")) or not (
            header.get("x5t") or header.get("x5t#S256")
        ):
            raise AadError(
                401,
                "invalid_client",
                700027,
                "AADSTS700027: Client assertion failed signature validation. (It must be signed with RS256 or "
                "PS256 and name its certificate by x5t.)",
            )
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise AadError(
                401,
                "invalid_client",
                700021,
                "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if (
            not isinstance(exp, int | float)
            or exp < now - 300
            or (isinstance(nbf, int | float) and nbf > now + 300)
        ):
            raise AadError(
                401,
                "invalid_client",
                700024,
                "AADSTS700024: Client assertion is not within its valid time range.",
            )
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and "/oauth2/" in a and a.rstrip("/").endswith("token") for a in auds):
            raise AadError(
                401,
                "invalid_client",
                70002,
                "AADSTS70002: The client assertion's audience must be the token endpoint.",
            )

    def _device_user(self, tenant: TenantRecord, code: str, client_id: str) -> dict[str, str]:
        entry = self._device_codes.get(code)
        if entry is None or entry["client_id"].lower() != client_id.lower():
            raise AadError(
                400,
                "invalid_grant",
                70000,
                "AADSTS70000: The provided value for the 'device_code' parameter is not valid.",
            )
        if entry["expires"] < time.time():
            self._device_codes.pop(code, None)
            raise AadError(
                400,
                "expired_token",
                70020,
                "AADSTS70020: The provided value for the input "
                "parameter 'device_code' is not valid. This device code has expired.",
            )
        self._device_codes.pop(code, None)  # a device code is redeemed once
        return self._default_user(tenant)

    # Microsoft Graph: a tool's own identity ---------------------------------------------------------------
    def _graph_claims(self, req: Request) -> dict[str, Any] | Response:
        try:
            # az's azemu cloud names azemu itself as Microsoft Graph: its tokens carry azemu's own audience
            endpoint = self.tokens.endpoint
            return self.tokens.verify_header(
                req.header("authorization"), (*GRAPH_AUDIENCES, endpoint, endpoint + "/")
            )
        except Exception as err:
            code = getattr(err, "code", "InvalidAuthenticationToken")
            return _graph_error(401, code, getattr(err, "message", "Access token validation failure."))

    def graph_item(self, req: Request) -> Response:
        claims = self._graph_claims(req)
        if isinstance(claims, Response):
            return claims
        item = req.params["item"]
        if item.lower() == "me":
            if claims.get("idtyp") != "user":
                return _graph_error(
                    400, "BadRequest", "/me request is only valid with delegated authentication flow."
                )
            return Response(
                200,
                {
                    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
                    "id": claims["oid"],
                    "userPrincipalName": claims.get("upn"),
                    "displayName": claims.get("name"),
                    "mail": None,
                    "businessPhones": [],
                },
            )
        if item.lower().startswith("serviceprincipals(appid="):
            app_id = item.split("=", 1)[1].rstrip(")").strip("'\"")
            sp = self._service_principal(claims["tid"], app_id)
            if sp is None:
                return _graph_error(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{app_id}' does not exist or one of "
                    "its queried reference-property objects are not present.",
                )
            return Response(200, sp)
        return _graph_error(
            400,
            "BadRequest",
            f"Resource not found for the segment '{item}'. (azemu serves "
            "only /me and /servicePrincipals of Microsoft Graph.)",
        )

    def graph_service_principals(self, req: Request) -> Response:
        claims = self._graph_claims(req)
        if isinstance(claims, Response):
            return claims
        flt = req.query.get("$filter", "")
        field, _, value = flt.partition(" eq ")
        if field.strip().lower() not in ("appid", "serviceprincipalnames/any(c:c"):
            return _graph_error(
                400, "BadRequest", "azemu serves servicePrincipals only with $filter=appId eq '...'."
            )
        app_id = value.strip().strip(")").strip("'\"")
        sp = self.emulator.identities.service_principal(claims["tid"], app_id) or self._service_principal(
            claims["tid"], app_id
        )
        return Response(
            200,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals",
                "value": [sp] if sp is not None else [],
            },
        )

    def _service_principal(self, tenant_id: str, app_id: str) -> dict[str, Any] | None:
        """The service principal of ``app_id`` in the caller's tenant: its object id is the ``oid`` its
        tokens carry."""
        tenancy = self.emulator.tenancy
        known = {p.client_id.lower(): p for p in tenancy.service_principals(tenant_id)}
        sp = known.get(app_id.lower())
        if sp is None and not tenancy.strict(tenant_id):
            oid, name = tenancy.object_id(tenant_id, app_id), app_id
        elif sp is None:
            return None
        else:
            oid, name = sp.object_id, sp.display_name
        return {
            "id": oid,
            "appId": app_id,
            "displayName": name,
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appOwnerOrganizationId": tenant_id,
            "servicePrincipalNames": [app_id],
        }
