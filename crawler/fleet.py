"""The fleet's coordination in PostgreSQL: politeness groups, advisory-lock keys, lease liveness.

A portal crawl is leased twice over: a ``portal_leases`` row names the node and job the
dispatcher sent it to (so a second dispatcher, or a late job, sees it is taken), and the crawl
process itself holds session-level advisory locks on its own connection while it crawls (one
for the portal, one for its politeness group). PostgreSQL drops those locks when the process's
connection ends, however the process ends: a lease outlives the scrapyd daemon (its crawls keep
running) but not the crawl.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from functools import cache

from sqlalchemy import Connection, text

# The first key of the two-key advisory locks (pg_locks.classid): one namespace per kind.
NS_PORTAL, NS_GROUP, NS_DISPATCH = 0x6F760001, 0x6F760002, 0x6F760003  # 0x6F760004: pipelines.store


# What ``schedule run --nodes`` keeps to itself: its own database URL, the node URLs (credentials).
DISPATCHER_ONLY = frozenset(
    {"GOVNEWS_DB", "GOVNEWS_FLEET_NODES", "GOVNEWS_FLEET_BATCH", "GOVNEWS_NODE_SLOTS", "GOVNEWS_SCHEDULE_LOCK"}
)


def lock_key(name: str) -> int:
    """A stable 31-bit key for a name (CRC-32; a collision only serialises two names needlessly)."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


@cache
def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled list: no network


def registrable_domain(host: str) -> str:
    """``xa-a.nghean.gov.vn`` -> ``nghean.gov.vn`` (gov.vn is a public suffix); the host itself otherwise."""
    host = host.lower().removeprefix("www.")
    return _extractor()(host).top_domain_under_public_suffix or host


def parse_groups(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """``GOVNEWS_FLEET_GROUPS``: ``host=group,host=group`` (or a dict) overriding the computed groups."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k).lower().removeprefix("www."): str(v) for k, v in value.items()}
    pairs = {}
    for pair in str(value).split(","):
        host, sep, group = pair.partition("=")
        if not sep or not host.strip() or not group.strip():
            from crawler.errors import UsageError

            raise UsageError(f"GOVNEWS_FLEET_GROUPS: {pair.strip()!r} is not host=group")
        pairs[host.strip().lower().removeprefix("www.")] = group.strip()
    return pairs


def politeness_group(portal, overrides: Mapping[str, str] | None = None) -> str:
    """The override for the portal's host, else the registry's ``group``, else its registrable domain."""
    if overrides and portal.host in overrides:
        return overrides[portal.host]
    return getattr(portal, "group", None) or registrable_domain(portal.host)


def held_keys(connection: Connection, namespace: int) -> set[int]:
    """The advisory-lock keys of ``namespace`` some session holds now (any database user may read pg_locks)."""
    rows = connection.execute(
        text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND granted"
            " AND classid = CAST(:ns AS bigint)::oid"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"ns": namespace},
    )
    return {row[0] for row in rows}


def try_lock(connection: Connection, namespace: int, name: str) -> bool:
    """A session-level advisory lock, without waiting; held until released or the connection ends."""
    return bool(
        connection.scalar(
            text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": _int4(namespace), "key": lock_key(name)}
        )
    )


def unlock(connection: Connection, namespace: int, name: str) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": _int4(namespace), "key": lock_key(name)})


def xact_lock(connection: Connection, namespace: int, name: str = "") -> None:
    """A transaction-level advisory lock, waiting for it: serialises one step across every process."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": _int4(namespace), "key": lock_key(name)})


def _int4(value: int) -> int:
    """The two-key lock functions take int4; pg_locks.classid shows the same bits as an unsigned oid."""
    return value - (1 << 32) if value >= 1 << 31 else value


def lease_live(lease, held_portals: set[int], node_jobs: Mapping[str, set[str] | None]) -> bool:
    """Whether a lease still holds its portal.

    Ended (``finished_at``) or never given: free. Its crawl holds the portal's advisory lock: held,
    whatever its node says (a killed daemon leaves its crawls running). Otherwise it is held while
    its node lists the job pending or running; an unreachable node's or an unknown job's lease has
    lapsed (should that job start after all, it finds its lease given to another and skips it).
    """
    if lease.job is None or lease.finished_at is not None:
        return False
    if lock_key(lease.site) in held_portals:
        return True
    jobs = node_jobs.get(lease.node)
    return jobs is not None and lease.job in jobs


def job_settings(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The settings a job receives: never the database URL (each node has its own GOVNEWS_DB), and
    nothing that carries a password (scrapyd shows job arguments in its logs and web UI)."""
    from crawler.errors import UsageError

    out = []
    for name, value in pairs:
        if name in DISPATCHER_ONLY:
            continue  # the dispatcher's own database and fleet; nodes read their database from their environment
        if has_password(value):
            raise UsageError(
                f"-s {name}: a URL with a password is not sent to scrapyd jobs (their arguments are logged);"
                " give nodes secrets through their environment, a .pgpass file or a libpq service"
            )
        out.append((name, value))
    return out


def has_password(value: str) -> bool:
    """Whether ``value`` holds a URL with a password (``scheme://user:secret@host``)."""
    import re

    return re.search(r"[a-z][a-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@", str(value), re.IGNORECASE) is not None
