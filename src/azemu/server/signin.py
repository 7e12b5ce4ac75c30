"""Interactive sign-in at Entra ID's authorization endpoint: the authorization-code flow with PKCE (RFC 7636),
as the Azure portal, MSAL.js and ``az login`` (interactive) use it.

``GET /{tenant}/oauth2/v2.0/authorize`` (and v1 ``/oauth2/authorize``) checks the request - client, where the
code may go, ``response_type=code``, a PKCE challenge - and shows a sign-in page. azemu's Entra ID has one user
per tenant and keeps no user passwords (as with the device-code flow, signing in asks for none): the page names
the account, and its form posts back to the same endpoint, which redirects to ``redirect_uri`` with a one-time
code. The token endpoint redeems the code (``grant_type=authorization_code``) once, within ten minutes, for
the same client and redirect URI, and only with the ``code_verifier`` whose SHA-256 is the challenge.

Where a code may go: loopback addresses only (``http://localhost``/``127.0.0.1`` on any port, the way Entra
treats public clients' loopback redirect URIs), and azemu's own origin. Anything else is refused with
AADSTS50011 before any redirect, so a code is never sent off the machine.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from azemu.arm.http import Request, Response
from azemu.domain.tenancy import AadError

CODE_LIFETIME = 600
_CODES_MAX = 1024
PORTAL_CLIENT_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"  # the Azure portal's application id
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


@dataclass
class Grant:
    """An authorization code, until it is redeemed or expires."""

    tenant_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    resource: str
    user: dict[str, str]
    nonce: str
    expires: float


def _page_error(status: int, aadsts: int, text: str) -> Response:
    """Entra's error page, shown when the request cannot be sent back to the client."""
    body = _html(
        "Sign in",
        f'<h1>Sorry, but we\'re having trouble signing you in.</h1><p role="alert">AADSTS{aadsts}: '
        f"{html.escape(text)}</p>",
    )
    return Response(status, body.encode(), content_type="text/html; charset=utf-8", headers=_headers(""))


def _headers(redirect_uri: str) -> dict[str, str]:
    origin = ""
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        origin = f" {parts.scheme}://{parts.netloc}"
    return {
        "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
        f"form-action 'self'{origin}; frame-ancestors 'none'; base-uri 'none'",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def _html(title: str, inner: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="/portal/signin.css"></head>'
        f'<body><main class="card">{inner}</main></body></html>'
    )


def allowed_redirect(uri: str, own_origin: str) -> bool:
    """A loopback redirect URI (any port, http or https), or one on azemu's own origin."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    if parts.fragment or parts.username or parts.password:
        return False
    if parts.scheme == "https" and f"https://{parts.netloc}".lower() == own_origin.lower():
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and (host in _LOOPBACK_HOSTS or host.startswith("127."))


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class SignIn:
    """The authorization endpoint and the codes it issued (held in memory: a restart signs users out, as
    codes are short-lived anyway)."""

    def __init__(self, users: Any) -> None:
        # users(tenant_segment) -> (tenant_id, default user dict); user(tenant_id, name) -> user dict
        self.users = users
        self._codes: dict[str, Grant] = {}

    # GET/POST /{tenant}/oauth2[/v2.0]/authorize ---------------------------------------------------------
    def authorize(self, req: Request) -> Response:
        params = dict(req.query)
        if req.method == "POST":
            params.update(dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)))
        try:
            tenant_id, default_user = self.users.default(req.params["tenant"])
        except AadError as err:
            return _page_error(400, err.aadsts, err.description.split(": ", 1)[-1])
        client_id = params.get("client_id", "")
        if not client_id:
            return _page_error(
                400, 900144, "The request body must contain the following parameter: 'client_id'."
            )
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or not allowed_redirect(redirect_uri, req.scheme_host):
            return _page_error(
                400,
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
                f"configured for the application '{client_id}'. (azemu accepts loopback redirect URIs and its "
                "own origin.)",
            )
        state = params.get("state", "")
        mode = params.get("response_mode") or "query"
        if mode not in ("query", "fragment"):
            return self._back(
                redirect_uri,
                "query",
                state,
                error="invalid_request",
                description=f"AADSTS900021: The response_mode '{mode}' is not supported by azemu "
                "(query and fragment are).",
            )
        if params.get("response_type") != "code":
            return self._back(
                redirect_uri,
                mode,
                state,
                error="unsupported_response_type",
                description="AADSTS700054: response_type must be 'code': azemu serves the authorization-code "
                "flow with PKCE only.",
            )
        challenge = params.get("code_challenge", "")
        method = params.get("code_challenge_method") or "plain"
        if not challenge or method not in ("S256", "plain"):
            return self._back(
                redirect_uri,
                mode,
                state,
                error="invalid_request",
                description="AADSTS9002325: Proof Key for Code Exchange is required for cross-origin "
                "authorization code redemption.",
            )
        if req.method == "POST" and params.get("cancel"):
            return self._back(
                redirect_uri,
                mode,
                state,
                error="access_denied",
                description="AADSTS65004: User declined to consent to access the app.",
            )
        login = params.get("login") or params.get("login_hint") or default_user["upn"]
        if req.method == "POST":
            try:
                user = self.users.user(tenant_id, login)
            except AadError as err:
                return self._page(req, params, tenant_id, login, redirect_uri, err.description)
            code = self._issue(
                Grant(
                    tenant_id=tenant_id,
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    challenge=challenge,
                    method=method,
                    scope=params.get("scope", ""),
                    resource=params.get("resource", ""),
                    user=user,
                    nonce=params.get("nonce", ""),
                    expires=time.time() + CODE_LIFETIME,
                )
            )
            return self._back(redirect_uri, mode, state, code=code, session_state=secrets.token_hex(16))
        return self._page(req, params, tenant_id, login, redirect_uri, "")

    def _page(
        self, req: Request, params: dict[str, str], tenant_id: str, login: str, redirect_uri: str, error: str
    ) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
            if k not in ("login", "cancel")
        )
        alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        inner = (
            '<p class="brand">azemu · Microsoft Entra ID (emulated)</p>'
            "<h1>Sign in</h1>"
            f"{alert}"
            f'<form method="post" action="{html.escape(req.path)}">{hidden}'
            '<label for="login">Email, phone, or Skype</label>'
            f'<input id="login" name="login" type="email" autocomplete="username" required '
            f'value="{html.escape(login)}">'
            f'<p class="note">Tenant <code>{html.escape(tenant_id)}</code>. azemu\'s Entra ID keeps one user '
            "per tenant and asks for no password.</p>"
            '<div class="buttons"><button type="submit" name="cancel" value="1" formnovalidate '
            'class="secondary">Cancel</button>'
            '<button type="submit" id="signin">Sign in</button></div></form>'
        )
        return Response(
            200 if not error else 400,
            _html("Sign in to your account", inner).encode(),
            content_type="text/html; charset=utf-8",
            headers=_headers(redirect_uri),
        )

    @staticmethod
    def _back(redirect_uri: str, mode: str, state: str, **values: str) -> Response:
        out = {k: v for k, v in values.items() if k not in ("error", "description")}
        if "error" in values:
            out = {"error": values["error"], "error_description": values.get("description", "")}
        if state:
            out["state"] = state
        sep = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        headers = {"Location": redirect_uri + sep + urlencode(out), **_headers(redirect_uri)}
        return Response(302, None, headers=headers)

    def _issue(self, grant: Grant) -> str:
        now = time.time()
        for code in [c for c, g in self._codes.items() if g.expires < now]:
            self._codes.pop(code, None)
        if len(self._codes) >= _CODES_MAX:
            self._codes.pop(next(iter(self._codes)))
        code = "1.azemu." + secrets.token_urlsafe(48)
        self._codes[code] = grant
        return code

    # the token endpoint's half -------------------------------------------------------------------------
    def redeem(self, tenant_id: str, form: dict[str, str]) -> Grant:
        """The grant behind ``form['code']``, checked and used up; AAD's error otherwise."""
        code = form.get("code", "")
        grant = self._codes.pop(code, None)
        if grant is None:
            raise AadError(
                400,
                "invalid_grant",
                54005,
                "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        if grant.expires < time.time():
            raise AadError(
                400,
                "invalid_grant",
                70008,
                "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. "
                "Send a new interactive authorization request for this user and resource.",
            )
        if (
            grant.tenant_id.lower() != tenant_id.lower()
            or grant.client_id.lower() != form.get("client_id", "").lower()
        ):
            raise AadError(
                400,
                "invalid_grant",
                70000,
                "AADSTS70000: The provided value for the 'code' parameter is not valid. The code was issued to "
                "another client or tenant.",
            )
        if form.get("redirect_uri", "") != grant.redirect_uri:
            raise AadError(
                400,
                "invalid_grant",
                50011,
                f"AADSTS50011: The redirect URI '{form.get('redirect_uri', '')}' specified in the request does "
                "not match the redirect URI the authorization code was issued for.",
            )
        verifier = form.get("code_verifier", "")
        expected = s256(verifier) if grant.method == "S256" else verifier
        if not verifier or not secrets.compare_digest(expected, grant.challenge):
            raise AadError(
                400,
                "invalid_grant",
                501481,
                "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        return grant
