"""Prometheus metrics: a registry per app, the counters routes update after commit, and GET /metrics."""

import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from app.auth import metrics_refusal
from app.db.engine import after_commit
from app.db.tables import OutcomeRecord, ReviewCase
from app.middleware import ObservedRequests
from app.model_holder import serving_scorer
from app.services.assessments import Tally
from app.services.drift import LEVELS
from app.services.monitoring import Monitor, MonitoringSnapshot

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 750, 1000, 2500, 10_000, 100_000)
# prometheus-client's multiprocess mode: set, every process counts into its own files there (chosen when the
# library is imported) and a scrape of any of them reads all the files.
SHARED_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def shared_directory() -> Path | None:
    """The directory the workers of one `serve` count in together, or None: this process counts in memory."""
    directory = os.environ.get(SHARED_DIR_VARIABLE)
    return Path(directory) if directory else None


@contextmanager
def counted_together(workers: int) -> Iterator[None]:
    """Around `serve`: more than one worker (or an operator's PROMETHEUS_MULTIPROC_DIR) count in one directory,
    emptied before any worker starts (earlier runs' counts are not this run's); a temporary one unless the
    operator named one, removed at the end. Workers are spawned, so they inherit the variable set here."""
    if (directory := shared_directory()) is not None:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield
    elif workers == 1:
        yield
    else:
        with tempfile.TemporaryDirectory(prefix="parcel-radar-metrics-") as temporary:
            os.environ[SHARED_DIR_VARIABLE] = temporary
            try:
                yield
            finally:
                del os.environ[SHARED_DIR_VARIABLE]


def _runs_under(pid: int, parent: int) -> bool:
    """Whether `pid` runs as a child of `parent` (not exited, nor a zombie its parent has yet to reap)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z" and int(fields[1]) == parent  # after the command name: state, then the parent


def _process(pid: int) -> ProcessCollector:
    return ProcessCollector(pid=lambda: pid, registry=None)


class _WorkerProcesses(Collector):
    """process_* of every live worker counting in `directory`, labelled by pid: the answering worker's alone
    would jump from worker to worker between scrapes. A live worker has files there and this one's parent."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def collect(self) -> Iterable[Metric]:
        # the library's files are named <kind>_<pid>.db; anything else in the directory is not a worker's
        named = (path.stem.rsplit("_", 1)[1] for path in self._directory.glob("*_*.db"))
        pids = {int(number) for number in named if number.isdigit()}
        families: dict[str, Metric] = {}
        for pid in sorted(p for p in pids if _runs_under(p, os.getppid())):
            for family in _process(pid).collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        return families.values()


class _ModelInfo(Collector):
    """parcel_radar_model_info{version=...}, read from the app at every scrape (absent while no model)."""

    def __init__(self, version: Callable[[], str | None]) -> None:
        self._version = version

    def collect(self) -> Iterable[Metric]:
        family = InfoMetricFamily("parcel_radar_model", "The model artifact the service scores with")
        if (version := self._version()) is not None:
            family.add_metric([], {"version": version})
        yield family


def _bounds(name: str, documentation: str, point: float | None, low: float, high: float) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["bound"])
    if point is not None:
        for bound, value in (("estimate", point), ("low", low), ("high", high)):
            family.add_metric([bound], value)
    return family


class _Monitoring(Collector):
    """Drift per feature and the live estimate, from the monitor's cached snapshot (refreshed before a scrape)."""

    def __init__(self, snapshot: Callable[[], MonitoringSnapshot | None]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        if (snapshot := self._snapshot()) is None:
            return
        drift, live = snapshot.drift, snapshot.live
        yield GaugeMetricFamily(
            "parcel_radar_drift_reference",
            "1 when the served model carries a training reference for drift, else 0",
            value=1.0 if drift.has_reference else 0.0,
        )
        psi = GaugeMetricFamily(
            "parcel_radar_drift_psi",
            "PSI of a feature (or the score) on the newest judged day",
            labels=["feature"],
        )
        level = GaugeMetricFamily(
            "parcel_radar_drift_level", "Drift level of a feature: 0 ok, 1 watch, 2 warn", labels=["feature"]
        )
        for column in drift.current.columns if drift.current else []:
            psi.add_metric([column.feature], column.psi)
            level.add_metric([column.feature], float(LEVELS.index(column.level)))
        yield psi
        yield level
        yield GaugeMetricFamily(
            "parcel_radar_drift_warning",
            "1 when a feature or the score drifted past the warning PSI on the newest judged day",
            value=1.0 if drift.current is not None and drift.current.level == "warn" else 0.0,
        )
        recall = live.recall
        yield _bounds(
            "parcel_radar_live_recall",
            f"Estimated recall of the targeted lanes over {live.days} days (inverse propensity, 95% bounds)",
            None if recall is None else recall.recall,
            0.0 if recall is None else recall.recall_low,
            1.0 if recall is None else recall.recall_high,
        )
        yield _bounds(
            "parcel_radar_live_precision",
            f"Hit rate of the targeted lanes' concluded inspections over {live.days} days (95% bounds)",
            live.precision,
            live.precision_low,
            live.precision_high,
        )
        yield GaugeMetricFamily(
            "parcel_radar_live_random_findings",
            f"Drug findings of the random lane over {live.days} days (what the recall estimate rests on)",
            value=float(live.random.findings),
        )


class Metrics:
    """The service's metrics in a registry of their own, so every app (and every test) counts apart; or, when
    workers count together (`shared_directory`), a registry reading every worker's files, so a scrape of any
    worker sees the whole container. The gauges are computed at scrape time by the answering worker (from the
    database, or its model), never kept in the files: nothing is counted once per worker, and no gauge needs
    `mark_process_dead` when a worker exits (uvicorn has no hook for it)."""

    def __init__(
        self,
        model_version: Callable[[], str | None],
        monitoring: Callable[[], MonitoringSnapshot | None] = lambda: None,
    ) -> None:
        self.registry = registry = CollectorRegistry()
        if (shared := shared_directory()) is None:
            ProcessCollector(registry=registry)
            counted: CollectorRegistry | None = registry
        else:
            MultiProcessCollector(registry, path=str(shared))  # type: ignore[no-untyped-call]  # unannotated
            registry.register(_WorkerProcesses(shared))
            counted = None  # the counters below reach the registry through the files, every worker's
        PlatformCollector(registry=registry)
        registry.register(_ModelInfo(model_version))
        registry.register(_Monitoring(monitoring))
        self.requests = Counter(
            "parcel_radar_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=counted,
        )
        self.request_seconds = Histogram(
            "parcel_radar_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=counted,
        )
        self.items_assessed = Counter(
            "parcel_radar_items_assessed",
            "Newly assessed items by decision and selection reason (replayed answers are not counted)",
            ["decision", "selection_reason"],
            registry=counted,
        )
        self.batch_items = Histogram(
            "parcel_radar_batch_items", "Items per assessed batch", buckets=BATCH_BUCKETS, registry=counted
        )
        self.cases_opened = Counter(
            "parcel_radar_review_cases_opened", "Review cases opened for held items", registry=counted
        )
        self.cases_closed = Counter(
            "parcel_radar_review_cases_closed",
            "Review cases closed by an inspection outcome or a lab result",
            registry=counted,
        )
        self.outcomes = Counter(
            "parcel_radar_outcomes_recorded",
            "Outcome records by kind (inspection, lab_result, correction) and result",
            ["kind", "result"],
            registry=counted,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def batch_assessed(self, items: int, tally: Tally) -> None:
        self.batch_items.observe(items)
        for decision, reason, count in tally:
            self.items_assessed.labels(decision, reason or "none").inc(count)
            if decision == "hold":
                self.cases_opened.inc(count)

    def outcome_recorded(self, kind: str, result: str, *, closed: bool) -> None:
        self.outcomes.labels(kind, result).inc()
        if closed:
            self.cases_closed.inc()


def count_batch(session: Session, metrics: Metrics, *, items: int, tally: Tally) -> None:
    """Count a batch of `items` and its new assessments by decision and selection reason (AssessedBatch)."""
    after_commit(session, lambda: metrics.batch_assessed(items, tally))  # rolled-back work is never counted


def count_outcome(session: Session, metrics: Metrics, record: OutcomeRecord) -> None:
    """Count an outcome record, and the case it closed; a correction is never counted as a closing."""
    closed = record.kind != "correction" and session.get_one(ReviewCase, record.case_id).status == "closed"
    kind, result = record.kind, record.result
    after_commit(session, lambda: metrics.outcome_recorded(kind, result, closed=closed))


async def _exposition(request: Request) -> Response:
    """The registry in the exposition format the scraper asks for (Prometheus text by default)."""
    if (
        refusal := metrics_refusal(request.app.state.settings, request.headers.get("authorization"))
    ) is not None:
        return refusal
    metrics: Metrics = request.app.state.metrics
    monitor: Monitor | None = getattr(request.app.state, "monitor", None)
    if monitor is not None:
        await run_in_threadpool(monitor.snapshot_for_scrape)  # recomputed at most once per refresh period
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(metrics.registry), media_type=content_type)


def install_metrics(app: FastAPI) -> Metrics:
    """Give `app` its registry, the per-request middleware (outside those added before) and GET /metrics."""

    def model_version() -> str | None:
        scorer = serving_scorer(app.state)
        return None if scorer is None else str(scorer.model_version)

    def monitoring() -> MonitoringSnapshot | None:
        monitor: Monitor | None = getattr(app.state, "monitor", None)
        return None if monitor is None else monitor.latest

    metrics = app.state.metrics = Metrics(model_version, monitoring)
    app.add_middleware(ObservedRequests, observe=metrics.observe_request)
    app.add_api_route("/metrics", _exposition, methods=["GET"], include_in_schema=False)
    return metrics
