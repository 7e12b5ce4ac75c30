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
DEFAULT_LIFETIME = 3599
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
    ) -> str:
        iat = int(time.time() if now is None else now)
        claims = {
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
        return jwt.encode(
            claims, self._private, algorithm="RS256", headers={"kid": self.kid, "x5t": self.kid}
        )

    def verify_header(self, authorization: str | None) -> dict[str, Any]:
        """Claims of a valid ARM bearer token, or the 401 Azure answers."""
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
        claims = self._cache.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[token] = claims
        exp = claims["exp"]
        now = time.time()
        if exp <= now:
            raise ExpiredAuthenticationToken(
                f"The access token expiry UTC time '{_azure_time(exp)}' is earlier than current UTC time "
                f"'{_azure_time(now)}'.",
                headers=_www("The access token expiry UTC time is earlier than current UTC time."),
            )
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
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
        except jwt.PyJWTError as exc:
            raise InvalidAuthenticationToken(
                "The access token is invalid.", headers=_www(f"The access token is invalid: {exc}.")
            ) from None
        if claims["aud"] not in self.audiences:
            allowed = ",".join(f"'{a}'" for a in ARM_AUDIENCES)
            raise InvalidAuthenticationTokenAudience(
                f"The access token has been obtained for wrong audience or resource '{claims['aud']}'. It should "
                f"exactly match with one of the allowed audiences {allowed}.",
                headers=_www("The access token has been obtained for wrong audience or resource."),
            )
        return claims


def _www(description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": (
            'Bearer authorization_uri="https://login.windows.net/", error="invalid_token", '
            f'error_description="{description}"'
        )
    }
