"""Service settings, read from PARCEL_RADAR_* environment variables (or a .env file)."""

from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-pseudonym-secret-change-me"  # noqa: S105 - refused outside development
# Docker and Kubernetes secrets: a file /run/secrets/parcel_radar_pseudonym_secret is read like the variable
# (the environment wins), so secrets need not sit in the container's environment.
SECRETS_DIR = Path("/run/secrets")
RoleName = Literal["officer", "supervisor", "analyst", "admin"]
_ASYMMETRIC_ALGORITHMS = {
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
}


class Settings(BaseSettings):
    """Every tunable of the service. Only development accepts the built-in pseudonymisation secret."""

    # Validation errors never echo the input: it holds the pseudonymisation secret and database credentials.
    model_config = SettingsConfigDict(
        env_prefix="PARCEL_RADAR_",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/parcel-radar.db"
    model_dir: Path = Path("models/default")
    pseudonym_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # One history read per batch binds up to 11 entity keys an item: 2,500 items stay under SQLite's
    # 32,766 bound parameters a statement.
    max_batch_items: int = Field(default=1000, ge=1, le=2_500)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    inspection_rate: float = Field(default=0.01, gt=0, le=0.5, description="Target share of items held")
    exploration_share: float = Field(default=0.1, ge=0, lt=1, description="Share of capacity drawn at random")
    live_window_hours: float = Field(
        default=24, gt=0, description="Window of recent scores for the threshold"
    )
    live_min_items: int = Field(
        default=2000,
        ge=1,
        description="Scores a partner needs before its own window sets its threshold (else its model version's)",
    )
    live_refresh_seconds: float = Field(
        default=5, ge=0, description="How often a process reads other processes' scores into its windows"
    )
    model_poll_seconds: float = Field(
        default=5, gt=0, le=3600, description="How often each worker asks the registry for its champion"
    )
    idempotency_ttl_hours: float = Field(default=24, gt=0)
    party_retention_days: int = Field(
        default=180, ge=1, description="Days clear-text parties of held items are kept"
    )
    worker_threads: int = Field(default=8, ge=1, le=256, description="Threads serving blocking routes")
    pin_cores: bool = Field(
        default=False,
        description="Keep each server process on one core of its own (app.cores; a cpuset only)",
    )
    log_json: bool = True
    log_level: str = "INFO"
    web_session_hours: float = Field(default=12, gt=0, le=24 * 30, description="Lifetime of a web sign-in")
    web_cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie over HTTPS only; default: everywhere but development",
    )
    oidc_issuer: str | None = Field(default=None, description="Accept officer JWTs from this issuer (iss)")
    oidc_audience: str | None = Field(default=None, description="The audience (aud) the JWTs must name")
    oidc_jwks_file: Path | None = Field(default=None, description="The issuer's JSON Web Key Set, as a file")
    oidc_public_key: str | None = Field(default=None, description="Or one PEM public key")
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256"])
    oidc_role_claim: str = Field(default="roles", description="Claim holding the role(s), a string or list")
    oidc_role_map: dict[str, RoleName] = Field(
        default_factory=dict, description='Claim value -> role, e.g. {"customs-officer": "officer"}'
    )
    oidc_username_claim: str = "preferred_username"
    oidc_office_claim: str | None = None
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=600)
    auth_failures_per_address: int = Field(
        default=30, ge=1, description="Failed sign-ins/bearer checks per window"
    )
    auth_failures_per_credential: int = Field(
        default=10, ge=1, description="The same, per token (by its prefix)"
    )
    auth_failure_window_seconds: int = Field(default=300, ge=1, le=86_400)
    api_key_cache_seconds: float = Field(
        default=5,
        ge=0,
        le=300,
        description="How long a process trusts a verified partner API key (0: read it on every request)",
    )
    api_docs: bool | None = Field(
        default=None, description="Serve /docs, /openapi.json; default: not in production"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token /metrics asks for (production: required)"
    )
    drift_watch_psi: float = Field(default=0.1, gt=0, description="PSI from which a feature is watched")
    drift_warn_psi: float = Field(default=0.25, gt=0, description="PSI from which drift is warned about")
    drift_min_items: int = Field(default=500, ge=1, description="Items a day needs before its PSI is judged")
    live_estimate_days: int = Field(
        default=28, ge=1, le=366, description="Days of assessments the live recall estimate rests on"
    )
    monitoring_refresh_seconds: float = Field(
        default=60, ge=0, description="How long drift and the live estimate are cached per worker"
    )
    drift_flush_seconds: float = Field(
        default=5,
        ge=0,
        le=3600,
        description="How often each process adds its drift counts to the database (0: in each batch's transaction)",
    )

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> Self:
        secret = self.pseudonym_secret.get_secret_value()
        if self.environment != "development" and secret == DEVELOPMENT_SECRET:
            raise ValueError(
                "set PARCEL_RADAR_PSEUDONYM_SECRET: the development secret is refused outside development"
            )
        if len(secret.encode()) < 32:
            raise ValueError("PARCEL_RADAR_PSEUDONYM_SECRET must be at least 32 bytes")
        return self

    @model_validator(mode="after")
    def _complete_oidc(self) -> Self:
        if self.oidc_issuer is None:
            return self
        if not self.oidc_audience:
            raise ValueError("set PARCEL_RADAR_OIDC_AUDIENCE with PARCEL_RADAR_OIDC_ISSUER")
        if (self.oidc_jwks_file is None) == (self.oidc_public_key is None):
            raise ValueError("set one of PARCEL_RADAR_OIDC_JWKS_FILE or PARCEL_RADAR_OIDC_PUBLIC_KEY")
        if not self.oidc_algorithms or set(self.oidc_algorithms) - _ASYMMETRIC_ALGORITHMS:
            raise ValueError(f"PARCEL_RADAR_OIDC_ALGORITHMS: only {sorted(_ASYMMETRIC_ALGORITHMS)}")
        return self

    @property
    def secure_cookies(self) -> bool:
        if self.web_cookie_secure is not None:
            return self.web_cookie_secure
        return self.environment != "development"


@cache
def get_settings() -> Settings:
    return Settings()
