"""OIDC bearer tokens: JWTs verified against the configured issuer, audience and keys, read as officer claims."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app.credentials import Role
from app.errors import Forbidden, Unauthorized
from app.settings import Settings

# When a token carries several roles, the officer gets the first of these it maps to.
ROLE_PRECEDENCE = (Role.ADMIN, Role.SUPERVISOR, Role.OFFICER, Role.ANALYST)


@dataclass(frozen=True)
class OidcClaims:
    """What the service takes from a verified token."""

    subject: str  # "<iss>|<sub>": unique even if two issuers reuse a subject
    username: str
    display_name: str
    role: Role
    office: str | None
    expires_at: datetime


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by dotted path ("realm_access.roles" reads a nested claim), None when absent."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class OidcVerifier:
    """Verifies officer JWTs offline against keys read once from a JWKS file or a PEM public key."""

    def __init__(self, settings: Settings) -> None:
        if settings.oidc_issuer is None or settings.oidc_audience is None:
            raise ValueError("OIDC needs an issuer and an audience")
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.algorithms = list(settings.oidc_algorithms)
        self.role_claim = settings.oidc_role_claim
        self.role_map = {name: Role(role) for name, role in settings.oidc_role_map.items()}
        self.username_claim = settings.oidc_username_claim
        self.office_claim = settings.oidc_office_claim
        self.leeway = settings.oidc_leeway_seconds
        self._keys: dict[str | None, Any] = {}
        if settings.oidc_jwks_file is not None:
            jwks = jwt.PyJWKSet.from_json(settings.oidc_jwks_file.read_text())
            self._keys = {key.key_id: key.key for key in jwks.keys}
        elif settings.oidc_public_key is not None:
            self._keys = {None: load_pem_public_key(settings.oidc_public_key.encode())}

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """The verifier when OIDC is configured, else None (local officer tokens only)."""
        return cls(settings) if settings.oidc_issuer is not None else None

    def _key(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"not a readable JWT: {exc}") from exc
        if kid in self._keys:
            return self._keys[kid]
        if None in self._keys:  # one configured PEM key signs whatever kid the token names
            return self._keys[None]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise Unauthorized("the token is signed with a key this service does not know")

    def verify(self, token: str) -> OidcClaims:
        """The officer claims of a valid token; Unauthorized if invalid, Forbidden if it grants no role."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(token),
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        subject = str(claims["sub"])
        username = _claim(claims, self.username_claim)
        office = _claim(claims, self.office_claim) if self.office_claim else None
        username = str(username) if username else subject
        return OidcClaims(
            subject=f"{claims['iss']}|{subject}",
            username=username,
            display_name=str(claims.get("name") or username),
            role=self._role(claims),
            office=str(office)[:32] if office else None,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )

    def _role(self, claims: dict[str, Any]) -> Role:
        value = _claim(claims, self.role_claim)
        values = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
        if self.role_map:
            granted = {self.role_map[v] for v in values if isinstance(v, str) and v in self.role_map}
        else:
            known = {role.value for role in Role}
            granted = {Role(v) for v in values if isinstance(v, str) and v in known}
        for role in ROLE_PRECEDENCE:
            if role in granted:
                return role
        raise Forbidden(f"the token's {self.role_claim!r} claim grants no Parcel Radar role")
