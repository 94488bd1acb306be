"""What bounds a benchmark pass: CPU seconds of the server, PostgreSQL and the client, the machine's busy cores,
and how the server's PostgreSQL backends spent the pass (running, idle in a transaction, waiting on a lock).

`watch(server)` wraps one pass and fills a `Usage` when the pass ends:
- server: the server process and its `--workers` children (`Server.cpu_seconds`, from /proc); a process
  of Python runs on about one core at most (the interpreter lock), so a server near one core a process is
  bound by that whatever the machine has free;
- postgres: the backends of the server's connections (recognised by the `application_name` that
  `bench.assess.database` puts in the URL) and PostgreSQL's background processes (WAL writer, checkpointer,
  autovacuum); other sessions' backends (other people's tests) count as "other";
- client: this benchmark process (`time.process_time`), without the sampler below;
- probe: the sampler's thread and its backend, the measurement's own cost;
- other: whatever else kept the machine's cores busy (/proc/stat), e.g. other processes on a shared host.

On PostgreSQL a sampler thread reads pg_stat_activity every SAMPLE_INTERVAL_S on its own connection and counts,
per sample, the server's backends that are in a transaction and what each is doing: running, idle in
transaction (the server's Python holds the transaction between statements) or waiting, e.g. Lock:transactionid
(on a row another transaction holds; the statement's verb and first table, and for a party_history row the
kind of its entity key, e.g. `corridor`, from the tuple lock's row, say which rows). A backend with a
transaction id has written (a batch's first write is the statement that locks its history rows), so "holding"
(written, not waiting on a lock) is the locked span: if about one backend at a time holds while the others wait,
batches are serialised by their row locks, and with one batch in flight the share of time it holds is the
serial fraction, 1 / which bounds what any number of workers gives while every batch shares a locked row
(`Backends.holding_mean`).

Per item, server + postgres + client CPU is what one item costs this machine, so cores / that cost is the most
items/s the machine can give whatever the number of workers (`Usage.bound`): an upper bound, since contention
only adds to it.
"""

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg

from bench.assess import Server
from model.entities import EntityKind

SAMPLE_INTERVAL_S = 0.015
KINDS = {kind.value for kind in EntityKind}
CPU_BOUND_SHARE = 0.95  # a pass that used this share of the cores others left it was bound by them
GIL_BOUND_CORES = 0.9  # a server process using this much of a core is bound by its interpreter lock
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
SAMPLER_NAME = "radar-bench-sampler"
ACTIVITY = """
SELECT pid, backend_xid IS NOT NULL, state, wait_event_type, wait_event, left(query, 400) FROM pg_stat_activity
WHERE application_name = %s AND state IN ('active', 'idle in transaction')
"""
# The history rows lock waiters queue on: a waiter holds (or waits for) the tuple lock of the row it waits for
WAITED_ROWS = """
SELECT pid, format('(%%s,%%s)', page, tuple) FROM pg_locks
WHERE locktype = 'tuple' AND pid = ANY(%s) AND relation = 'party_history'::regclass
"""
KEY_KINDS = "SELECT ctid::text, split_part(entity_key, ':', 1) FROM party_history WHERE ctid = ANY(%s::tid[])"
OURS = "SELECT pid FROM pg_stat_activity WHERE application_name = %s OR backend_type <> 'client backend'"


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process and of its children it has waited for; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICK


def _machine_ticks() -> tuple[int, int]:
    """Busy and all jiffies of every core so far (busy: user, nice, system, irq, softirq)."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return user + nice + system + irq + softirq, user + nice + system + idle + iowait + irq + softirq + steal


def application_name(database_url: str) -> str | None:
    """The application_name a PostgreSQL URL gives its connections (None for SQLite or none given)."""
    names = parse_qs(urlsplit(database_url).query).get("application_name")
    return names[0] if names and database_url.startswith("postgresql") else None


def _statement(query: str) -> str:
    """'INSERT party_history' from a statement: its verb and the first table it names."""
    verb = re.match(r"\s*(\w+)", query)
    table = re.search(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+\"?([\w.]+)", query, flags=re.IGNORECASE)
    return " ".join(found.group(1) for found in (verb, table) if found)


def _row(pid: int, kinds: dict[int, str], wait_event: str | None) -> str:
    """Which row a lock waiter waits on: its key's kind, or, waiting on a transaction with no tuple lock (the
    unique check of an insert), a row that transaction inserted and has not committed (a key new to both)."""
    if pid in kinds:
        kind = kinds[pid]
        return f", {EntityKind(kind).name.lower() if kind in KINDS else kind} row"
    return ", a row not yet committed" if wait_event == "transactionid" else ""


@dataclass
class Backends:
    """Sums over pg_stat_activity samples of the server's backends in a transaction, by what each was doing."""

    samples: int = 0
    samples_with_lock_wait: int = 0
    holding: int = 0  # backend-samples past their first write and not waiting on a lock
    doing: Counter[str] = field(default_factory=Counter)
    lock_waits: Counter[str] = field(default_factory=Counter)

    def add(
        self, rows: list[tuple[int, bool, str, str | None, str | None, str]], kinds: dict[int, str]
    ) -> None:
        """One sample: pg_stat_activity rows (ACTIVITY), and the key kind of the row each lock waiter waits on."""
        self.samples += 1
        self.samples_with_lock_wait += any(row[3] == "Lock" for row in rows)
        for pid, wrote, state, wait_type, wait_event, query in rows:
            self.holding += wrote and wait_type != "Lock"
            if state == "idle in transaction":
                self.doing["idle in transaction"] += 1
            elif wait_type is None:
                self.doing["running"] += 1
            else:
                self.doing[f"{wait_type}:{wait_event}"] += 1
            if wait_type == "Lock":
                self.lock_waits[f"{wait_event} ({_statement(query)}{_row(pid, kinds, wait_event)})"] += 1

    @property
    def holding_mean(self) -> float:
        """Backends holding row locks (written, not waiting) on average: with one batch in flight, the share of
        its time it holds them."""
        return self.holding / self.samples if self.samples else 0.0

    def line(self) -> tuple[str, str]:
        """(value, note) for the table: backends in a transaction and waiting on a lock, and the top waits."""
        if not self.samples:
            return "no samples", ""
        in_transaction = sum(self.doing.values())
        mean, waiting = in_transaction / self.samples, sum(self.lock_waits.values()) / self.samples
        holding = self.holding_mean
        doing = ", ".join(f"{what} {n / in_transaction:.0%}" for what, n in self.doing.most_common(4))
        locks = "; ".join(f"{what} {n / in_transaction:.0%}" for what, n in self.lock_waits.most_common(3))
        return (
            f"{mean:.2f} backends in a transaction: {waiting:.2f} waiting on a lock, {holding:.2f} holding row"
            f" locks, {mean - waiting - holding:.2f} before their first write",
            f"({self.samples} samples, a lock wait in {self.samples_with_lock_wait / self.samples:.0%}): "
            f"{doing}{'; locks: ' + locks if locks else ''}",
        )


class _Sampler(threading.Thread):
    """Samples the backends named `name` until stopped, on `connection` (used by no other thread meanwhile)."""

    def __init__(self, connection: psycopg.Connection, name: str) -> None:
        super().__init__(daemon=True)
        self.connection, self.name_, self.backends = connection, name, Backends()
        self.stopping = threading.Event()
        self.thread_cpu = 0.0

    def run(self) -> None:
        began = time.thread_time()
        while not self.stopping.wait(SAMPLE_INTERVAL_S):
            rows = self.connection.execute(ACTIVITY, (self.name_,)).fetchall()
            waiting = [row[0] for row in rows if row[3] == "Lock"]
            self.backends.add(rows, self._kinds(waiting) if waiting else {})
        self.thread_cpu = time.thread_time() - began

    def _kinds(self, waiting: list[int]) -> dict[int, str]:
        """The entity key kind of the party_history row each waiting backend waits on, where it has one."""
        rows: dict[int, str] = dict(self.connection.execute(WAITED_ROWS, (waiting,)).fetchall())
        kinds: dict[str, str] = dict(
            self.connection.execute(KEY_KINDS, (list(set(rows.values())),)).fetchall()
        )
        return {pid: kinds[tid] for pid, tid in rows.items() if tid in kinds}


@dataclass(frozen=True)
class Usage:
    """CPU seconds of one pass by who spent them, over `seconds` of wall time on `cores` cores."""

    seconds: float
    cores: int
    busy_cores: float
    server: float
    postgres: float
    client: float
    probe: float
    backends: Backends | None
    server_processes: int = 1

    @property
    def other(self) -> float:
        return max(
            0.0, self.busy_cores * self.seconds - self.server - self.postgres - self.client - self.probe
        )

    @property
    def free_cores(self) -> float:
        """The cores that other processes left to the server, PostgreSQL and the client."""
        return self.cores - (self.other + self.probe) / self.seconds

    def per_unit_s(self, count: int) -> float:
        """Server + postgres + client CPU seconds per item (or request)."""
        return (self.server + self.postgres + self.client) / count

    def bound(self, count: int) -> float:
        """The most items (or requests) a second this machine's cores give at this pass's CPU per item."""
        return self.cores / self.per_unit_s(count)

    def line(self, count: int, unit: str) -> tuple[str, str]:
        """(value, note) for the table: busy cores by who used them, and CPU per item with the bound."""
        ours = [("server", self.server), ("postgres", self.postgres), ("client", self.client)]
        if self.backends is None:  # SQLite: no PostgreSQL process works for the server
            del ours[1]
        names = " + ".join(who for who, _ in ours)
        shares = ", ".join(
            f"{who} {cpu / self.seconds:.2f}"
            for who, cpu in [*ours, ("probe", self.probe), ("other", self.other)]
            if cpu or who != "probe"
        )
        used = sum(cpu for _, cpu in ours) / self.seconds
        each = " + ".join(f"{who} {cpu * 1000 / count:.3f}" for who, cpu in ours)
        starved = ": bound by CPU" if used >= CPU_BOUND_SHARE * self.free_cores else ""
        if self.server >= GIL_BOUND_CORES * self.server_processes * self.seconds:
            starved += f"; server near one core a process ({self.server_processes}): bound by the GIL"
        return (
            f"cores busy {self.busy_cores:.2f} of {self.cores}: {shares}"
            f" ({names} {used:.2f} of the {self.free_cores:.2f} others left{starved})",
            f"CPU {each} = {self.per_unit_s(count) * 1000:.3f} ms/{unit}: "
            f"at most {self.bound(count):,.0f} {unit}s/s on {self.cores} cores",
        )


class _Filled:
    """Holds the Usage that `watch` fills in when its pass ends."""

    usage: Usage


@dataclass(frozen=True)
class _Snapshot:
    """CPU seconds so far of everyone a pass is accounted against."""

    wall: float
    machine: tuple[int, int]
    server: float
    client: float
    probe: float
    ours: dict[int, float]  # PostgreSQL processes counted as the server's: its backends and background ones

    @classmethod
    def take(cls, server: Server, connection: psycopg.Connection | None, name: str | None) -> "_Snapshot":
        ours = {}
        if connection is not None:
            ours = {pid: _cpu_of(pid) for (pid,) in connection.execute(OURS, (name,)).fetchall()}
        probe = _cpu_of(connection.info.backend_pid) if connection is not None else 0.0
        return cls(
            time.perf_counter(), _machine_ticks(), server.cpu_seconds(), time.process_time(), probe, ours
        )


@contextmanager
def watch(server: Server) -> Iterator[_Filled]:
    """Account one pass against `server`: yields a holder whose `usage` is set when the block ends."""
    url = server.env["PARCEL_RADAR_DATABASE_URL"]
    name = application_name(url)
    # the server's own URL (its search_path: the history table's name resolves), under another name
    connection = psycopg.connect(url, autocommit=True, application_name=SAMPLER_NAME) if name else None
    sampler = _Sampler(connection, name) if connection and name else None
    filled = _Filled()
    try:
        before = _Snapshot.take(server, connection, name)
        if sampler:
            sampler.start()
        yield filled
        if sampler:
            sampler.stopping.set()
            sampler.join()
        after = _Snapshot.take(server, connection, name)
        sampler_cpu = sampler.thread_cpu if sampler else 0.0
        busy, every = (after.machine[n] - before.machine[n] for n in (0, 1))
        cores = os.cpu_count() or 1
        filled.usage = Usage(
            seconds=after.wall - before.wall,
            cores=cores,
            busy_cores=cores * busy / every if every else 0.0,
            server=after.server - before.server,
            postgres=sum(cpu - before.ours.get(pid, 0.0) for pid, cpu in after.ours.items()),
            client=after.client - before.client - sampler_cpu,
            probe=after.probe - before.probe + sampler_cpu,
            backends=sampler.backends if sampler else None,
            server_processes=server.workers,
        )
    finally:
        if connection:
            connection.close()
