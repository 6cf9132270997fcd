"""``govnews schedule run --nodes``: every due portal sent, in batches, as scrapyd jobs over the nodes.

One dispatcher at a time decides (a transaction-level advisory lock), inside one transaction
that also writes the leases: a second dispatcher waits, then sees them. A lease row is written
before its job is sent, so the job's crawl process, which locks the row to take it, waits for
this transaction and then finds its own job id there; a job whose send failed is rolled back
out of the leases (a savepoint) and, should it start anyway, finds none and crawls nothing.

Portals of one politeness group go into one job, one after another; a group with a portal
leased or crawling anywhere waits for a later run. Jobs are as many as the nodes' free slots
(``daemonstatus.json``; a node's slots: ``?slots=N`` on its URL, else ``GOVNEWS_NODE_SLOTS``),
and more when a job would hold more than ``GOVNEWS_FLEET_BATCH`` groups; the ones beyond the
free slots wait as scrapyd *pending* jobs, spread evenly.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from crawler import fleet
from crawler.fleet_nodes import PROJECT, Node, NodeError


@dataclass
class NodeState:
    node: Node
    slots: int
    running: int = 0
    pending: int = 0
    finished: int = 0
    jobs: set[str] | None = None  # pending and running job ids; None: unreachable
    error: str | None = None

    @property
    def free(self) -> int:
        return max(self.slots - self.running - self.pending, 0)


def survey(nodes: list[Node], slots: int) -> list[NodeState]:
    """Each node's load (``daemonstatus.json``) and its live jobs (``listjobs.json``)."""
    states = []
    for node in nodes:
        state = NodeState(node, node.slots or slots)
        try:
            status = node.get("daemonstatus.json")
            jobs = node.jobs()
        except NodeError as error:
            state.error = str(error)
        else:
            state.running, state.pending, state.finished = (
                status.get(k, 0) for k in ("running", "pending", "finished")
            )
            state.jobs = {job["id"] for kind in ("pending", "running") for job in jobs[kind]}
        states.append(state)
    return states


def plan(chains: list[list[str]], states: list[NodeState], batch: int) -> list[tuple[NodeState, list[list[str]]]]:
    """Chains (a group's portals) into jobs, jobs onto reachable nodes: free slots first, then evenly queued."""
    reachable = [state for state in states if state.jobs is not None]
    if not chains or not reachable:
        return []
    count = min(len(chains), max(sum(s.free for s in reachable), math.ceil(len(chains) / max(batch, 1))))
    jobs: list[list[list[str]]] = [[] for _ in range(count)]
    for chain in sorted(chains, key=lambda c: (-len(c), c)):  # longest first onto the lightest job
        min(jobs, key=lambda j: (sum(map(len, j)), len(j))).append(chain)
    free = {id(s): s.free for s in reachable}
    queued = {id(s): s.running + s.pending for s in reachable}
    placed = []
    for job in jobs:
        state = max(reachable, key=lambda s: (free[id(s)], -queued[id(s)] / s.slots if s.slots else 0))
        free[id(state)] -= 1
        queued[id(state)] += 1
        placed.append((state, job))
    return placed


@dataclass
class Dispatch:
    sent: list[tuple[str, str, list[list[str]]]] = field(default_factory=list)  # node, job, chains
    failed: list[tuple[str, str]] = field(default_factory=list)  # node, error
    waiting: list[str] = field(default_factory=list)  # due, but leased or its group busy
    nodes: list[NodeState] = field(default_factory=list)


def dispatch(
    engine: Engine,
    scheduler,
    nodes: list[Node],
    settings: list[tuple[str, str]],
    *,
    slots: int = 4,
    batch: int = 20,
    groups: dict[str, str] | None = None,
    only: str | None = None,
) -> Dispatch:
    """Send every due portal that no lease holds; the leases and the sends in one transaction."""
    from sqlalchemy.dialects.postgresql import insert

    from pipelines.models import PortalLease

    if engine.dialect.name != "postgresql":
        from crawler.errors import UsageError

        raise UsageError("a fleet needs PostgreSQL (--db / GOVNEWS_DB): its leases are PostgreSQL advisory locks")
    report = Dispatch()
    group_of = {host: fleet.politeness_group(portal, groups) for host, portal in scheduler.registry.items()}
    with engine.begin() as rows:  # a row per portal before any claim: a starting job blocks on it, never misses it
        rows.execute(
            insert(PortalLease)
            .values([{"site": host, "politeness_group": group} for host, group in sorted(group_of.items())])
            .on_conflict_do_nothing(index_elements=["site"])
        )
    with engine.connect() as connection, connection.begin():
        fleet.xact_lock(connection, fleet.NS_DISPATCH)  # held to the commit: the next dispatcher sees our leases
        # The order matters. Leases first, locked: a job cannot give one back while we decide, and it records
        # a crawl's end in the schedule before giving its lease back, so a lease read as ended is a portal
        # read as not due below. Then the nodes and the locks held, then what is due.
        leases = connection.execute(select(PortalLease).order_by(PortalLease.site).with_for_update()).all()
        report.nodes = survey(nodes, slots)  # after the lock: the jobs of a dispatcher that went before are listed
        held_portals = fleet.held_keys(connection, fleet.NS_PORTAL)
        held_groups = fleet.held_keys(connection, fleet.NS_GROUP)
        due = scheduler.due(only=only)
        full = {portal.host for portal, is_full in due if is_full}
        node_jobs = {state.node.name: state.jobs for state in report.nodes}
        live = {lease.site: lease for lease in leases if fleet.lease_live(lease, held_portals, node_jobs)}
        busy = {lease.politeness_group for lease in live.values()}
        chains: dict[str, list[str]] = {}
        for portal, _ in due:
            group = group_of[portal.host]
            if portal.host in live or group in busy or fleet.lock_key(group) in held_groups:
                report.waiting.append(portal.host)
            else:
                chains.setdefault(group, []).append(portal.host)
        now = datetime.now(UTC)
        for state, job_chains in plan(list(chains.values()), report.nodes, batch):
            job = uuid.uuid4().hex
            hosts = [host for chain in job_chains for host in chain]
            savepoint = connection.begin_nested()
            connection.execute(
                update(PortalLease)
                .where(PortalLease.site.in_(hosts))
                .values(
                    node=state.node.name,
                    job=job,
                    dispatched_at=now,
                    started_at=None,
                    finished_at=None,
                    hostname=None,
                    pid=None,
                    note=None,
                )
            )
            for host in hosts:
                connection.execute(
                    update(PortalLease).where(PortalLease.site == host).values(politeness_group=group_of[host])
                )
            fields = [
                ("project", PROJECT),
                ("spider", "portal"),
                ("jobid", job),
                ("portals", ";".join(",".join(chain) for chain in job_chains)),
                ("node", state.node.name),
                *(("setting", f"{name}={value}") for name, value in settings),
            ]
            job_full = sorted(full.intersection(hosts))
            if job_full:
                fields.append(("full", ",".join(job_full)))
            try:
                state.node.post("schedule.json", fields)
            except NodeError as error:
                savepoint.rollback()
                report.failed.append((state.node.name, str(error)))
                continue
            savepoint.commit()
            report.sent.append((state.node.name, job, job_chains))
    return report


def print_dispatch(report: Dispatch, out) -> None:
    for state in report.nodes:
        if state.error:
            print(f"govnews schedule: node {state.node.name} unreachable: {state.error}", file=out)
    for node, job, chains in report.sent:
        portals = "; ".join(", ".join(chain) for chain in chains)
        print(f"govnews schedule: {node} job {job}: {portals}", file=out)
    for node, error in report.failed:
        print(f"govnews schedule: {node}: job not sent: {error}", file=out)
    if report.waiting:
        print(
            f"govnews schedule: held by a running or queued job (or its group's): {', '.join(report.waiting)}", file=out
        )
    if not report.sent and not report.failed and not report.waiting:
        print("govnews schedule: nothing is due", file=out)
