"""Group commit of small assessment requests: requests that arrive together share one transaction and one
scoring pass, so a courier's single-label call does not pay a whole transaction, history read and audit
append alone.

While one group is being scored and committed, new requests queue; the next group takes all of them (up to
`max_items`). An idle service therefore adds no wait, and a busy one commits large groups. Each request gets
its answer only after the commit of its group. Items of one partner in one group form one batch (one
`batch_id`, one audit record). If a group fails, each of its requests is retried alone, so a failure stays
with the request that causes it.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from app.db.tables import Partner
from app.metrics import Metrics, count_batch
from app.schemas import AssessmentResponse
from app.scoring import Scorer
from app.services.assessments import AssessmentPolicy, assess_batch, natural_key
from model.shipment import Shipment

GROUP_MAX_ITEMS = 250  # a group's items: large enough to amortise a transaction, small enough to answer fast


@dataclass
class _Request:
    partner: Partner
    scorer: Scorer
    items: Sequence[tuple[int, Shipment]]
    future: "asyncio.Future[AssessmentResponse]" = field(repr=False)


@dataclass
class _Queue:
    waiting: list[_Request] = field(default_factory=list)
    drainer: "asyncio.Task[None] | None" = None


class GroupCommit:
    """Assess small requests in groups; one group is scored and committed at a time per process."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        policy: AssessmentPolicy,
        metrics: Metrics,
        max_items: int = GROUP_MAX_ITEMS,
    ) -> None:
        self._sessions, self._policy, self._metrics, self._max_items = sessions, policy, metrics, max_items
        # One queue per event loop (uvicorn runs one; a test client may run a loop per request).
        self._queues: WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = WeakKeyDictionary()

    async def assess(
        self, *, partner: Partner, scorer: Scorer, items: Sequence[tuple[int, Shipment]]
    ) -> AssessmentResponse:
        """The answer to one request, once the group holding it has committed."""
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _Queue())
        future: asyncio.Future[AssessmentResponse] = loop.create_future()
        queue.waiting.append(_Request(partner, scorer, items, future))
        if queue.drainer is None or queue.drainer.done():
            queue.drainer = asyncio.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: "_Queue") -> None:
        while queue.waiting:
            group, queue.waiting = self._next_group(queue.waiting)
            try:
                outcomes = await to_thread.run_sync(self._commit_or_split, group)
            except BaseException as exc:  # the thread could not run it (shutdown): nobody is left waiting
                outcomes = [exc] * len(group)
            for request, outcome in zip(group, outcomes, strict=True):
                if request.future.done():  # the client went away; its items are committed all the same
                    continue
                if isinstance(outcome, BaseException):
                    request.future.set_exception(outcome)
                else:
                    request.future.set_result(outcome)

    def _next_group(self, waiting: list[_Request]) -> tuple[list[_Request], list[_Request]]:
        """(group, still waiting): requests in arrival order up to `max_items`; a request naming an item
        already in the group waits for the next one, so it finds that item assessed (as if it came after)."""
        group: list[_Request] = []
        rest: list[_Request] = []
        seen: set[tuple[int, str, object]] = set()
        items = 0
        for request in waiting:
            keys = {(request.partner.id, *natural_key(s)) for _, s in request.items}
            if (group and items + len(request.items) > self._max_items) or keys & seen:
                rest.append(request)
                continue
            group.append(request)
            seen |= keys
            items += len(request.items)
        return group, rest

    def _commit_or_split(self, group: list[_Request]) -> list[AssessmentResponse | BaseException]:
        try:
            with self._sessions.begin() as session:
                return self._assess(session, group)
        except Exception as exc:
            if len(group) == 1:
                return [exc]
        return [outcome for request in group for outcome in self._commit_or_split([request])]

    def _assess(self, session: Session, group: list[_Request]) -> list[AssessmentResponse | BaseException]:
        """One batch per partner (and model) in the group, in arrival order; answers split by request."""
        batches: dict[tuple[int, int], list[_Request]] = {}
        for request in group:
            batches.setdefault((request.partner.id, id(request.scorer)), []).append(request)
        answers: dict[int, AssessmentResponse] = {}
        for requests in batches.values():
            owners = [(request, index) for request in requests for index, _ in request.items]
            merged = [(n, s) for n, s in enumerate(s for request in requests for _, s in request.items)]
            head = requests[0]
            batch = assess_batch(
                session, scorer=head.scorer, partner=head.partner, items=merged, policy=self._policy
            )
            count_batch(session, self._metrics, items=len(merged), tally=batch.tally)
            response = batch.response
            if len(requests) == 1 and all(i == n for n, (i, _) in enumerate(head.items)):
                answers[id(head)] = response  # the request's own batch, numbered as it numbers its items
                continue
            for request in requests:
                decisions = [
                    decision.model_copy(update={"index": owners[decision.index][1]})
                    for decision in response.decisions
                    if owners[decision.index][0] is request
                ]
                answers[id(request)] = response.model_copy(update={"decisions": decisions})
        return [answers[id(request)] for request in group]
