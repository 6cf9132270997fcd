"""A fleet job's leases on the real PostgreSQL server: what a crawl process takes, skips and gives back,
and that its advisory locks end with its connection (as when the process dies)."""

from __future__ import annotations

import os

import pytest
from conftest import PG_URL, _drop_postgres_database, _fresh_postgres_database
from sqlalchemy import create_engine, insert, select

from crawler import fleet
from crawler.fleet_job import Chain, LeaseHolder, parse_batch
from pipelines import models as m
from pipelines.db import make_engine, upgrade

if not PG_URL and os.environ.get("CI"):
    raise RuntimeError("GOVNEWS_TEST_PG_URL is not set: CI must run the lease tests on PostgreSQL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server for tests (set GOVNEWS_TEST_PG_URL)")


@pytest.fixture
def pg(request):
    name = f"govnews_lease_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}"
    url = _fresh_postgres_database(name)
    upgrade(make_engine(url))
    yield url
    make_engine(url).dispose()
    _drop_postgres_database(name)


def _held(engine, namespace: int, *names: str) -> set[str]:
    with engine.connect() as connection:
        keys = fleet.held_keys(connection, namespace)
    return {name for name in names if fleet.lock_key(name) in keys}


def test_a_job_takes_its_leases_skips_others_and_gives_each_back(pg):
    engine = create_engine(pg)
    rows = [("a.gov.vn", "g", "j1"), ("b.gov.vn", "g", "j1"), ("c.gov.vn", "h", "j2"), ("d.gov.vn", "k", "j1")]
    with engine.begin() as connection:
        connection.execute(
            insert(m.PortalLease), [{"site": s, "politeness_group": g, "node": "n:1", "job": j} for s, g, j in rows]
        )
    other = engine.connect()  # another crawl, elsewhere, is crawling group k
    assert fleet.try_lock(other, fleet.NS_GROUP, "k")
    other.commit()

    holder = LeaseHolder(pg, "j1", "n:1")
    chains = holder.take(parse_batch("a.gov.vn,b.gov.vn;c.gov.vn;d.gov.vn"))
    assert chains == [Chain("g", ["a.gov.vn", "b.gov.vn"])], "c is another job's, d's group is busy"
    leases = {lease.site: lease for lease in _leases(engine)}
    assert leases["a.gov.vn"].pid == os.getpid()
    assert leases["a.gov.vn"].started_at is not None
    assert (leases["c.gov.vn"].job, leases["c.gov.vn"].finished_at, leases["c.gov.vn"].note) == ("j2", None, None)
    assert leases["d.gov.vn"].finished_at is not None, "given back, to be sent again"
    assert "group k" in leases["d.gov.vn"].note
    assert _held(engine, fleet.NS_PORTAL, "a.gov.vn", "b.gov.vn", "d.gov.vn") == {"a.gov.vn", "b.gov.vn"}
    assert _held(engine, fleet.NS_GROUP, "g", "k") == {"g", "k"}

    again = LeaseHolder(pg, "j1", "n:1")  # the same job started twice (a retried send): nothing to take
    assert again.take(parse_batch("a.gov.vn,b.gov.vn")) == []
    again.connection.close()

    holder.finished("a.gov.vn")
    assert _held(engine, fleet.NS_PORTAL, "a.gov.vn", "b.gov.vn") == {"b.gov.vn"}
    assert {lease.site for lease in _leases(engine) if lease.finished_at} == {"a.gov.vn", "d.gov.vn"}

    holder.connection.close()  # the crawl process dies: PostgreSQL ends its session and its locks
    holder.engine.dispose()
    assert _held(engine, fleet.NS_PORTAL, "b.gov.vn") == set()
    assert _held(engine, fleet.NS_GROUP, "g") == set()
    b = next(lease for lease in _leases(engine) if lease.site == "b.gov.vn")
    assert b.finished_at is None
    assert not fleet.lease_live(b, set(), {"n:1": None}), "lapsed once its node is gone too"
    assert fleet.lease_live(b, set(), {"n:1": {"j1"}}), "held while its node still lists the job"
    other.close()
    engine.dispose()


def _leases(engine) -> list:
    with engine.connect() as connection:
        return connection.execute(select(m.PortalLease)).all()
