"""The service's tables: partners and officers with their credentials, assessments, history, cases, outcomes."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UTCDateTime, utcnow


class Partner(Base):
    """A post or courier company that files shipments."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "post" (S10 ids only) or "courier" (waybills allowed)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A partner API key; only its SHA-256 is stored, the key itself is shown once."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Officer(Base):
    """A customs user: officer, supervisor, analyst or admin."""

    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    office: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_subject: Mapped[str | None] = mapped_column(
        String(255), unique=True, index=True
    )  # "<issuer>|<sub>" of an officer known through OIDC


class OfficerToken(Base):
    """A bearer token of an officer; only its SHA-256 is stored."""

    __tablename__ = "officer_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Assessment(Base):
    """One scored item: the decision, why it was selected, and the non-personal shipment metadata."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("partner_id", "item_id", "posted_on"),
        Index("ix_assessments_created_at", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    item_index: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(35))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    posted_on: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(2))
    destination: Mapped[str] = mapped_column(String(2))
    mail_class: Mapped[str] = mapped_column(String(1))
    score: Mapped[float] = mapped_column(Float)  # calibrated probability of drugs
    raw_score: Mapped[float] = mapped_column(Float)  # the model's margin; decisions and ranking use it
    threshold: Mapped[float] = mapped_column(Float)  # raw-score threshold in force
    decision: Mapped[str] = mapped_column(String(16))
    referral: Mapped[str | None] = mapped_column(String(32))
    selection_reason: Mapped[str | None] = mapped_column(String(16))
    selection_probability: Mapped[float] = mapped_column(Float)  # chance this item was held by the policy
    hits: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list
    )  # rule and list entries that matched
    model_version: Mapped[str] = mapped_column(String(64))
    sender_key: Mapped[str | None] = mapped_column(String(40))
    sender_address_key: Mapped[str | None] = mapped_column(String(40))
    sender_area_key: Mapped[str | None] = mapped_column(String(40))
    addressee_key: Mapped[str | None] = mapped_column(String(40))
    addressee_address_key: Mapped[str | None] = mapped_column(String(40))
    corridor_key: Mapped[str] = mapped_column(String(40))
    sender_premises_key: Mapped[str | None] = mapped_column(String(40))
    sender_street_key: Mapped[str | None] = mapped_column(String(40))
    sender_name_key: Mapped[str | None] = mapped_column(String(40))
    sender_habit_key: Mapped[str | None] = mapped_column(String(40))
    buyer_key: Mapped[str | None] = mapped_column(String(40))
    shipment: Mapped[dict[str, Any]] = mapped_column(JSON)  # the item without its parties' personal data
    features: Mapped[bytes | None] = mapped_column(
        LargeBinary
    )  # the model inputs as scored: float64 little-endian, FEATURE_NAMES order (NaN kept); None before 0005
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def entity_keys(self) -> list[str]:
        keys = (
            self.sender_key,
            self.sender_address_key,
            self.sender_area_key,
            self.addressee_key,
            self.addressee_address_key,
            self.corridor_key,
            self.sender_premises_key,
            self.sender_street_key,
            self.sender_name_key,
            self.sender_habit_key,
            self.buyer_key,
        )
        return [key for key in keys if key is not None]


class PartyHistory(Base):
    """The stored form of model.history.EntityState, one row per pseudonymous entity key."""

    __tablename__ = "party_history"
    # PostgreSQL: free space on every page, so a batch's ~6,000 row updates stay on their page (HOT updates, no
    # new index entry): the history update 47 -> 30 ms for 8,000 keys, while the batch holds the rows (0010)
    __table_args__ = ({"postgresql_with": {"fillfactor": 70}},)
    entity_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    items_short: Mapped[float] = mapped_column(Float)
    items_long: Mapped[float] = mapped_column(Float)
    counterparties: Mapped[str] = mapped_column(Text, default="")
    countries: Mapped[str] = mapped_column(Text, default="")
    holds: Mapped[int] = mapped_column(BigInteger, default=0)
    seizures: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seizure_at: Mapped[float | None] = mapped_column(Float)


class ReviewCase(Base):
    """A held item waiting for, or worked by, a customs officer."""

    __tablename__ = "review_cases"
    __table_args__ = (
        Index("ix_review_cases_status_raw_score", "status", "raw_score"),
        Index("ix_review_cases_created_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, claimed, pending_lab, closed
    score: Mapped[float] = mapped_column(Float)
    raw_score: Mapped[float] = mapped_column(Float)
    referral: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parties: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # clear text, purged after retention
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime)
    features: Mapped[list[float | None]] = mapped_column(JSON)  # the item's feature vector when it was scored
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON
    )  # computed when the case is first opened
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutcomeRecord(Base):
    """An inspection outcome recorded by an officer; a correction supersedes an earlier record."""

    __tablename__ = "outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), index=True)
    result: Mapped[str] = mapped_column(String(32))
    substance_category: Mapped[str | None] = mapped_column(String(32))
    quantity_value: Mapped[float | None] = mapped_column(Float)
    quantity_unit: Mapped[str | None] = mapped_column(String(8))
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))
    superseded: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[str] = mapped_column(
        String(16), default="inspection", server_default="inspection"
    )  # inspection, lab_result, correction
    reason: Mapped[str | None] = mapped_column(Text)  # why a correction was made
    lab_reference: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(Base):
    """The first answer to a partner's request with an Idempotency-Key, replayed for retries until expiry."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("partner_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # in_progress, done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CapacitySetting(Base):
    """Target inspection rate and exploration share for a scope: 'global', 'partner:<id>' or 'office:<id>'."""

    __tablename__ = "capacity_settings"
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    inspection_rate: Mapped[float] = mapped_column(Float)
    exploration_share: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListEntry(Base):
    """A watchlist (always hold) or allowlist (never hold by the model) entry on a pseudonymised entity."""

    __tablename__ = "list_entries"
    __table_args__ = (Index("ix_list_entries_entity_key", "entity_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_kind: Mapped[str] = mapped_column(String(8))  # watch, allow
    entity_kind: Mapped[str] = mapped_column(
        String(24)
    )  # sender, sender_address, sender_area, addressee, ...
    entity_key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))  # what the supervisor wants to read, never the clear text
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RuleVersion(Base):
    """One version of a targeting rule on shipment fields; editing a rule adds a version, the newest counts."""

    __tablename__ = "rule_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(8))  # hold, release, raise
    raise_by: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The global order of audit records on PostgreSQL (SQLite's one writer takes the next number itself).
AUDIT_SEQUENCE = Sequence("audit_seq", metadata=Base.metadata)


class AuditRecord(Base):
    """An append-only audit record; `hash` chains it to the record before it in its chain (a partition, so
    concurrent transactions append without waiting for each other), see app.services.audit."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "chain_seq"),)
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )  # unique over all chains, in the order records were appended
    chain: Mapped[int] = mapped_column(Integer)  # the partition; the anchors have a chain of their own
    chain_seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite")
    )  # 1, 2, ... per chain
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON of every field above plus details
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PartyAccess(Base):
    """One read of a case's clear-text parties: who, when, through which channel, and the stated purpose."""

    __tablename__ = "party_access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("review_cases.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))  # api, web
    accessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class WebSession(Base):
    """A signed-in browser; the cookie holds a random id and only its SHA-256 is stored."""

    __tablename__ = "web_sessions"
    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # echoed by every form of this session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthFailure(Base):
    """One failed sign-in or bearer check, by bucket ("address:<ip>" or "credential:<id>"); sign-in and
    bearer authentication are throttled on the failures of the recent window, in every worker process."""

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_bucket_at", "bucket", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModelVersion(Base):
    """A registered model artifact: registered, shadow (scores beside the champion), champion, or retired."""

    __tablename__ = "model_versions"
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # registered, shadow, champion, retired
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)  # the manifest's metrics, for listing
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_by: Mapped[str] = mapped_column(String(64))
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it last became champion
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ModelFile(Base):
    """One file of a registered artifact, so every worker on every host loads the same bytes."""

    __tablename__ = "model_files"
    version: Mapped[str] = mapped_column(ForeignKey("model_versions.version"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ShadowScore(Base):
    """A challenger's score of an assessed item, on the feature vector the champion scored."""

    __tablename__ = "shadow_scores"
    version: Mapped[str] = mapped_column(ForeignKey("model_versions.version"), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), primary_key=True)
    raw_score: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)


class DriftCount(Base):
    """Items scored per UTC day and model version in each training-reference bin of a feature (or "score");
    batches add to the counts with an atomic upsert, and the population stability index is read from them."""

    __tablename__ = "drift_counts"
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    feature: Mapped[str] = mapped_column(String(64), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    items: Mapped[int] = mapped_column(BigInteger)


class TargetingVersion(Base):
    """One row counting the changes of rules, list entries and capacity settings: every change made through
    app.services.policy_admin adds one in its own transaction, so a process's cache of them (app.services.rules)
    knows from one primary-key read whether to reload."""

    __tablename__ = "targeting_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
