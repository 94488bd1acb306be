"""The models one worker serves: the registry's champion (switched without a restart), the shadow, and the
recently used versions that explain the items they scored."""

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from app.errors import AppError, NotFound
from app.scoring import Scorer
from app.services import registry
from model.artifact import ArtifactError
from model.entities import Pseudonymiser

logger = logging.getLogger(__name__)
KEPT_VERSIONS = 4


class ModelHolder:
    """Swaps `champion` and `shadow` by reference, so a request keeps the scorer it started with."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        read_sessions: sessionmaker[Session],
        pseudonymiser: Pseudonymiser,
        configured: Scorer | None,
        poll_seconds: float,
    ) -> None:
        self.champion = configured
        self.shadow: Scorer | None = None
        self.problem: str | None = None  # why the registry's champion is not the one served, if it is not
        self._sessions, self._read_sessions = sessions, read_sessions
        self._pseudonymiser = pseudonymiser
        self._poll_seconds = poll_seconds
        self._kept: OrderedDict[str, Scorer] = OrderedDict()
        self._kept_lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="model-holder", daemon=True)
        if configured is not None:
            self._keep(configured)

    def start(self, configured_files: Mapping[str, bytes] | None) -> None:
        """Adopt the configured artifact as champion if the registry has none, load the champion, then poll."""
        if configured_files is not None:
            try:
                with self._sessions() as session, session.begin():
                    registry.adopt_champion(session, configured_files, actor="service")
            except (SQLAlchemyError, AppError) as exc:
                logger.warning("the configured model was not adopted by the registry: %s", exc)
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stopped.wait(self._poll_seconds):
            self.refresh()

    def refresh(self) -> None:
        """Serve what the registry says; a version that fails to load leaves the current one in place."""
        try:
            with self._read_sessions() as session:
                champion, shadow = registry.serving_versions(session)
            if champion is not None and (self.champion is None or self.champion.model_version != champion):
                self.champion = self._load(champion)
                logger.info("now serving model %s", champion)
            if shadow is None or self.shadow is None or self.shadow.model_version != shadow:
                self.shadow = self._load(shadow) if shadow is not None else None
            self.problem = None
        except (SQLAlchemyError, AppError, ArtifactError) as exc:
            self.problem = f"{type(exc).__name__}: {exc}"
            logger.error("the registry's models could not be loaded; serving the current one: %s", exc)

    def scorer_for(self, version: str) -> Scorer | None:
        """The scorer of `version` (kept, or loaded from the registry); None if the registry lacks it."""
        for serving in (self.champion, self.shadow):
            if serving is not None and serving.model_version == version:
                return serving
        try:
            return self._load(version)
        except (NotFound, ArtifactError) as exc:
            logger.warning("model %s cannot explain its scores: %s", version, exc)
            return None

    def _load(self, version: str) -> Scorer:
        with self._kept_lock:
            if (kept := self._kept.get(version)) is not None:
                self._kept.move_to_end(version)
                return kept
        with self._read_sessions() as session:
            artifact = registry.load_artifact(session, version)
        return self._keep(Scorer(artifact, self._pseudonymiser))

    def _keep(self, scorer: Scorer) -> Scorer:
        with self._kept_lock:
            self._kept[scorer.model_version] = scorer
            self._kept.move_to_end(scorer.model_version)
            while len(self._kept) > KEPT_VERSIONS:
                self._kept.popitem(last=False)
        return scorer


def serving_scorer(state: State) -> Scorer | None:
    """The champion a request starts with (None before the lifespan or without any model)."""
    holder: ModelHolder | None = getattr(state, "models", None)
    return holder.champion if holder is not None else None
