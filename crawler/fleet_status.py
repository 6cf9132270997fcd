"""``govnews fleet status``: per scrapyd node its running, pending and finished jobs, and what they crawl."""

from __future__ import annotations

from typing import IO

from crawler.fleet_dispatch import survey
from crawler.fleet_nodes import Node


def print_fleet(nodes: list[Node], slots: int, jobs_portals: dict[str, list[str]], out: IO[str]) -> bool:
    """One line per node, then one per live job with its portals (from the leases); False if a node is down."""
    all_up = True
    for state in survey(nodes, slots):
        if state.error:
            all_up = False
            print(f"{state.node.name:28} unreachable: {state.error}", file=out)
            continue
        print(
            f"{state.node.name:28} running {state.running:3}  pending {state.pending:3}  finished {state.finished:4}"
            f"  free slots {state.free}/{state.slots}",
            file=out,
        )
        listing = state.node.jobs()
        for kind in ("running", "pending"):
            for job in listing[kind]:
                portals = ", ".join(jobs_portals.get(job["id"], [])) or "-"
                print(f"  {kind:8} {job['id']}  {portals}", file=out)
    return all_up


def leased_portals(engine) -> dict[str, list[str]]:
    """job id -> the portals its lease rows name (open leases only)."""
    from sqlalchemy import select

    from pipelines.models import PortalLease

    with engine.connect() as connection:
        rows = connection.execute(
            select(PortalLease.job, PortalLease.site)
            .where(PortalLease.job.is_not(None), PortalLease.finished_at.is_(None))
            .order_by(PortalLease.site)
        ).all()
    portals: dict[str, list[str]] = {}
    for job, site in rows:
        portals.setdefault(job, []).append(site)
    return portals
