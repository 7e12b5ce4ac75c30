"""RS256 access tokens: issued by azemu's Entra ID endpoint, verified on every ARM request.

Verification results are cached per token string (signature checked once), and expiry is re-checked on
every use — re-verifying the same RS256 signature per request would cap throughput.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from azemu.domain.errors import (
    AuthenticationFailed,
    ExpiredAuthenticationToken,
    InvalidAuthenticationToken,
    InvalidAuthenticationTokenAudience,
)

ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
GRAPH_AUDIENCES = (
    "https://graph.microsoft.com/",
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
    "https://graph.windows.net/",
    "https://graph.windows.net",
    "00000002-0000-0000-c000-000000000000",
)
DEFAULT_LIFETIME = 3599
REFRESH_LIFETIME = 90 * 24 * 3600
_REFRESH_AUDIENCE = "urn:azemu:refresh-token"
_CACHE_MAX = 8192


def _b64(n: int) -> str:
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _azure_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%m/%d/%Y %H:%M:%S")


class TokenService:
    def __init__(self, private_key_pem: bytes, endpoint: str) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        assert isinstance(key, RSAPrivateKey)
        self._private: RSAPrivateKey = key
        self._public: RSAPublicKey = key.public_key()
        der = self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:15]).decode()
        self.endpoint = endpoint.rstrip("/")
        self.audiences = frozenset((*ARM_AUDIENCES, self.endpoint, self.endpoint + "/"))
        self._cache: dict[str, dict[str, Any]] = {}

    def jwks(self) -> dict[str, Any]:
        nums = self._public.public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64(nums.n),
                    "e": _b64(nums.e),
                }
            ]
        }

    @staticmethod
    def audience_for_scope(scope: str) -> str:
        """``https://management.azure.com/.default`` -> ``https://management.azure.com/``."""
        first = scope.split()[0] if scope.strip() else ""
        if first.endswith("/.default"):
            return first[: -len(".default")].rstrip("/") + "/"
        return first

    def issue(
        self,
        *,
        tenant_id: str,
        client_id: str,
        object_id: str,
        audience: str,
        lifetime: int = DEFAULT_LIFETIME,
        now: float | None = None,
        user: dict[str, str] | None = None,
    ) -> str:
        """An access token; ``user`` (upn, name) makes it a delegated (user) token, as the device-code,
        password and refresh-token flows issue, with ``oid`` the user's object id."""
        iat = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": iat,
            "nbf": iat,
            "exp": iat + lifetime,
            "appid": client_id,
            "appidacr": "1",
            "idp": f"https://sts.windows.net/{tenant_id}/",
            "idtyp": "app",
            "oid": object_id,
            "sub": object_id,
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        if user is not None:
            claims.update(
                idtyp="user",
                upn=user["upn"],
                unique_name=user["upn"],
                name=user["name"],
                scp="user_impersonation",
                amr=["pwd"],
            )
            claims["appidacr"] = "0"
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._private, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid}
        )

    def issue_refresh(self, *, tenant_id: str, client_id: str, user: dict[str, str]) -> str:
        """A refresh token (azemu's own signed format: opaque to clients, as Entra ID's are)."""
        now = int(time.time())
        return self._sign(
            {
                "aud": _REFRESH_AUDIENCE,
                "iat": now,
                "exp": now + REFRESH_LIFETIME,
                "tid": tenant_id,
                "appid": client_id,
                "oid": user["oid"],
                "upn": user["upn"],
                "name": user["name"],
                "uti": uuid.uuid4().hex[:22],
            }
        )

    def read_refresh(self, token: str) -> dict[str, Any] | None:
        """The claims of a refresh token azemu issued and that has not expired; None otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._public, algorithms=["RS256"], audience=_REFRESH_AUDIENCE
            )
        except jwt.PyJWTError:
            return None
        return claims

    def issue_id_token(self, *, issuer: str, tenant_id: str, client_id: str, user: dict[str, str]) -> str:
        now = int(time.time())
        return self._sign(
            {
                "aud": client_id,
                "iss": issuer,
                "iat": now,
                "nbf": now,
                "exp": now + DEFAULT_LIFETIME,
                "oid": user["oid"],
                "sub": user["oid"],
                "tid": tenant_id,
                "preferred_username": user["upn"],
                "name": user["name"],
                "ver": "2.0",
            }
        )

    def verify_header(
        self, authorization: str | None, audiences: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """Claims of a valid ARM bearer token (or one for ``audiences``), or the 401 Azure answers."""
        if not authorization:
            raise AuthenticationFailed(
                "Authentication failed. The 'Authorization' header is missing.",
                headers=_www("The authentication failed because of missing 'Authorization' header."),
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed(
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                headers=_www("The authentication failed because of invalid 'Authorization' header format."),
            )
        cached = self._cache.get(token) if audiences is None else None
        if cached is not None:
            claims = cached
        elif audiences is not None:
            claims = self._decode(token, frozenset(audiences))
        else:
            claims = self._decode(token)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[token] = claims
        exp = claims["exp"]
        now = time.time()
        nbf = claims.get("nbf")
        if isinstance(nbf, int | float) and nbf > now + _CLOCK_SKEW:
            raise InvalidAuthenticationToken(
                f"The access token is not yet valid: its 'nbf' (not before) UTC time '{_azure_time(nbf)}' is later "
                f"than current UTC time '{_azure_time(now)}'.",
                headers=_www("The access token is not yet valid."),
            )
        if exp <= now:
            raise ExpiredAuthenticationToken(
                f"The access token expiry UTC time '{_azure_time(exp)}' is earlier than current UTC time "
                f"'{_azure_time(now)}'.",
                headers=_www("The access token expiry UTC time is earlier than current UTC time."),
            )
        return claims

    def _decode(self, token: str, audiences: frozenset[str] | None = None) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                options={
                    "verify_aud": False,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["exp", "tid", "aud", "oid"],
                },
            )
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise InvalidAuthenticationToken(
                "The access token is invalid.", headers=_www(f"The access token is invalid: {exc}.")
            ) from None
        if kid is not None and kid != self.kid:  # signed by azemu's key, yet naming another: not ours
            raise InvalidAuthenticationToken(
                "The access token is invalid.",
                headers=_www(
                    f"The access token is invalid: signature key '{kid}' is not a key of this issuer."
                ),
            )
        tid = str(claims["tid"])
        if claims.get("iss") not in (
            f"https://sts.windows.net/{tid}/",
            f"https://login.microsoftonline.com/{tid}/v2.0",
        ):
            raise InvalidAuthenticationToken(
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must be issued by the "
                f"token's tenant 'https://sts.windows.net/{tid}/'.",
                headers=_www("The access token is from the wrong issuer."),
            )
        if claims["aud"] not in (audiences or self.audiences):
            allowed = ",".join(f"'{a}'" for a in (audiences or ARM_AUDIENCES))
            raise InvalidAuthenticationTokenAudience(
                f"The access token has been obtained for wrong audience or resource '{claims['aud']}'. It should "
                f"exactly match with one of the allowed audiences {allowed}.",
                headers=_www("The access token has been obtained for wrong audience or resource."),
            )
        return claims


_CLOCK_SKEW = 300.0  # seconds: Entra ID's and ARM's allowance for clocks that disagree (nbf)


def _www(description: str, tenant_id: str = "") -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            f'Bearer authorization_uri="https://login.windows.net/{tenant_id}", error="invalid_token", '
            f'error_description="{description}"'
        )
    }


def with_tenant(err: Exception, tenant_id: str) -> Exception:
    """ARM's 401 for a subscription names the subscription's tenant in its challenge: tools (Packer, az's
    ``--tenant``-less login) discover the tenant from an unauthenticated ``GET /subscriptions/{id}``."""
    headers = getattr(err, "headers", None)
    challenge = (headers or {}).get("WWW-Authenticate", "")
    if challenge.startswith('Bearer authorization_uri="https://login.windows.net/"'):
        headers["WWW-Authenticate"] = challenge.replace(  # type: ignore[index]
            "https://login.windows.net/", f"https://login.windows.net/{tenant_id}", 1
        )
    return err
