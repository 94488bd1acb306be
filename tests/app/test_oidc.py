"""OIDC mode: officer JWTs verified offline against a local RSA key set, subjects mapped to officers."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError
from sqlalchemy import select

from app.db.tables import Officer
from tests.app.review_support import audit_actions
from tests.app.test_web_pages import sign_in_form
from tests.conftest import TEST_SECRET, Service, make_settings, start_service

ISSUER = "https://id.customs.example/realms/customs"
AUDIENCE = "parcel-radar"
KID = "customs-2026"
ROLE_MAP = {"customs-officer": "officer", "customs-supervisor": "supervisor", "risk-analyst": "analyst"}


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _oidc_settings(tmp_path: Path, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}))
    return {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_file": jwks,
        "oidc_role_claim": "realm_access.roles",
        "oidc_role_map": ROLE_MAP,
        "oidc_office_claim": "office",
        "web_cookie_secure": False,
    }


@pytest.fixture
def oidc_service(tmp_path: Path, model_dir: Path, signing_key: rsa.RSAPrivateKey) -> Iterator[Service]:
    """The service accepting JWTs from ISSUER (and local officer tokens still)."""
    yield from start_service(
        f"sqlite:///{tmp_path / 'radar.db'}", model_dir, **_oidc_settings(tmp_path, signing_key)
    )


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "5f0c6a2e-officer-1",
        "iat": now,
        "exp": now + 600,
        "preferred_username": "e.jansen",
        "name": "Eva Jansen",
        "office": "NL-AMS",
        "realm_access": {"roles": ["offline_access", "customs-officer"]},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(key: rsa.RSAPrivateKey, *, kid: str | None = KID, **overrides: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(_claims(**overrides), key, algorithm="RS256", headers=headers)


def _unsigned(header: dict[str, Any], claims: dict[str, Any], sign: bytes | None) -> str:
    """A hand-made JWT: the tokens an attacker would try (alg none, HS256 keyed with the public key)."""

    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = b"" if sign is None else hmac.new(sign, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _queue(service: Service, token: str) -> Any:
    return service.client.get("/v1/review/cases", headers=service.as_officer(token))


def _officers(service: Service) -> list[Officer]:
    with service.session() as session:
        return list(session.scalars(select(Officer).where(Officer.external_subject.is_not(None))))


def test_a_valid_token_maps_its_subject_to_an_officer_created_on_first_sight(
    oidc_service: Service, signing_key: rsa.RSAPrivateKey
) -> None:
    token = _token(signing_key)
    assert _queue(oidc_service, token).status_code == 200
    assert _queue(oidc_service, _token(signing_key)).status_code == 200
    (officer,) = _officers(oidc_service)
    assert officer.external_subject == f"{ISSUER}|5f0c6a2e-officer-1"
    assert (officer.username, officer.display_name, officer.role, officer.office) == (
        "e.jansen",
        "Eva Jansen",
        "officer",
        "NL-AMS",
    )
    created = audit_actions(oidc_service, f"officer:{officer.id}")
    assert [action for action, _ in created] == ["officer.created"]
    assert orjson.loads(created[0][1])["actor"] == "oidc"
    assert _queue(oidc_service, oidc_service.officer_token).status_code == 200  # local tokens still work


def test_the_role_follows_the_role_claim(oidc_service: Service, signing_key: rsa.RSAPrivateKey) -> None:
    assert _queue(oidc_service, _token(signing_key)).status_code == 200
    promoted = _token(signing_key, realm_access={"roles": ["customs-officer", "customs-supervisor"]})
    capacity = oidc_service.client.get("/v1/policy/capacity", headers=oidc_service.as_officer(promoted))
    assert capacity.status_code == 200
    (officer,) = _officers(oidc_service)
    assert officer.role == "supervisor"
    assert [a for a, _ in audit_actions(oidc_service, f"officer:{officer.id}")] == [
        "officer.created",
        "officer.updated",
    ]
    analyst = _token(signing_key, sub="analyst-7", realm_access={"roles": ["risk-analyst"]})
    assert _queue(oidc_service, analyst).status_code == 403
    nobody = _token(signing_key, sub="visitor-9", realm_access={"roles": ["offline_access"]})
    refused = _queue(oidc_service, nobody)
    assert refused.status_code == 403
    assert "grants no Parcel Radar role" in refused.json()["detail"]


def test_a_username_taken_locally_gets_a_suffix(
    oidc_service: Service, signing_key: rsa.RSAPrivateKey
) -> None:
    with oidc_service.session() as session:
        local = session.scalars(select(Officer.username)).first()
    assert local is not None
    assert _queue(oidc_service, _token(signing_key, preferred_username=local)).status_code == 200
    (officer,) = _officers(oidc_service)
    assert officer.username.startswith(f"{local}-")
    assert officer.username != local


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda key, other: _token(key, aud="another-service"), id="wrong audience"),
        pytest.param(lambda key, other: _token(key, iss="https://evil.example"), id="wrong issuer"),
        pytest.param(lambda key, other: _token(key, exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda key, other: _token(key, exp=None), id="no expiry"),
        pytest.param(lambda key, other: _token(other), id="signed by another key"),
        pytest.param(lambda key, other: _token(key, kid="rotated-away"), id="unknown key id"),
        pytest.param(
            lambda key, other: _unsigned({"alg": "none", "kid": KID}, _claims(), None), id="alg none"
        ),
        pytest.param(
            lambda key, other: _unsigned({"alg": "HS256", "kid": KID}, _claims(), _public_pem(key).encode()),
            id="HS256 keyed with the public key",
        ),
        pytest.param(lambda key, other: "not.a.jwt", id="garbage"),
    ],
)
def test_forged_or_stale_tokens_are_refused(
    oidc_service: Service, signing_key: rsa.RSAPrivateKey, forge: Any
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = _queue(oidc_service, forge(signing_key, other))
    assert response.status_code == 401, response.text
    assert _officers(oidc_service) == []


def test_a_pem_public_key_works_instead_of_a_key_set(
    tmp_path: Path, model_dir: Path, signing_key: rsa.RSAPrivateKey
) -> None:
    settings = {
        **_oidc_settings(tmp_path, signing_key),
        "oidc_jwks_file": None,
        "oidc_public_key": _public_pem(signing_key),
    }
    for service in start_service(f"sqlite:///{tmp_path / 'pem.db'}", model_dir, **settings):
        assert _queue(service, _token(signing_key, kid=None)).status_code == 200


def test_officers_sign_in_to_the_pages_with_a_jwt(
    oidc_service: Service, signing_key: rsa.RSAPrivateKey
) -> None:
    expires = int(time.time()) + 300
    response = sign_in_form(oidc_service, _token(signing_key, exp=expires))
    assert response.status_code == 303
    assert response.headers["location"] == "/queue"
    assert oidc_service.client.get("/queue").status_code == 200
    cookie = next(c for c in oidc_service.client.cookies.jar if c.name == "pr_session")
    assert cookie.expires is not None
    assert cookie.expires <= expires  # the page session ends with the token


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"oidc_issuer": ISSUER}, "AUDIENCE"),
        ({"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE}, "JWKS_FILE or"),
        (
            {
                "oidc_issuer": ISSUER,
                "oidc_audience": AUDIENCE,
                "oidc_public_key": "x",
                "oidc_algorithms": ["HS256"],
            },
            "ALGORITHMS",
        ),
    ],
)
def test_incomplete_oidc_settings_are_refused(
    overrides: dict[str, Any], message: str, model_dir: Path
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_settings("sqlite://", model_dir, pseudonym_secret=TEST_SECRET, **overrides)
