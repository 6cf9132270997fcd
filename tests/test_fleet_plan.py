"""The fleet's pure parts: node URLs and their credentials, what a job may receive, groups, the plan."""

from __future__ import annotations

import pytest

from crawler.errors import UsageError
from crawler.fleet import has_password, job_settings, lease_live, lock_key, parse_groups, politeness_group
from crawler.fleet_dispatch import NodeState, plan
from crawler.fleet_nodes import Node, parse_nodes
from crawler.registry import portal_for_url


def test_node_url_credentials_become_a_header_and_never_its_name(monkeypatch):
    monkeypatch.delenv("GOVNEWS_SCRAPYD_USERNAME", raising=False)
    node = Node.parse("http://fleet:s%40cret@10.0.0.5:6800?slots=3")
    assert (node.name, node.base, node.slots) == ("10.0.0.5:6800", "http://10.0.0.5:6800", 3)
    assert node.auth == "ZmxlZXQ6c0BjcmV0"  # base64 of fleet:s@cret
    assert "cret" not in repr(node)
    assert Node.parse("10.0.0.6").name == "10.0.0.6:6800"


def test_node_credentials_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOVNEWS_SCRAPYD_USERNAME", "u")
    monkeypatch.setenv("GOVNEWS_SCRAPYD_PASSWORD", "p")
    assert Node.parse("http://h:6800").auth == "dTpw"


@pytest.mark.parametrize("bad", ["ftp://h:21", "http://h:6800?slots=many", "http://a:1,http://a:1"])
def test_bad_node_lists_are_usage_errors(bad):
    with pytest.raises(UsageError):
        parse_nodes(bad)


def test_a_job_never_receives_the_database_url_or_a_password():
    pairs = [("GOVNEWS_DB", "postgresql://u@db/news"), ("GOVNEWS_FLEET_NODES", "http://u:p@h:6800"), ("A", "1")]
    assert job_settings(pairs) == [("A", "1")]
    with pytest.raises(UsageError, match="password"):
        job_settings([("HTTP_PROXY", "http://user:secret@proxy:3128")])
    assert has_password("postgresql+psycopg://govnews:pw@127.0.0.1/db")
    assert not has_password("postgresql+psycopg://govnews@127.0.0.1/db")
    assert not has_password("https://example.gov.vn/a:b@c")  # '@' after the path is no credential


def test_politeness_groups_by_registrable_domain_unless_overridden():
    commune, province = portal_for_url("https://xa-a.nghean.gov.vn/"), portal_for_url("https://nghean.gov.vn/")
    assert politeness_group(commune) == politeness_group(province) == "nghean.gov.vn"
    assert politeness_group(portal_for_url("https://khxhnvnghean.gov.vn/")) == "khxhnvnghean.gov.vn"
    overrides = parse_groups("khxhnvnghean.gov.vn=nghe-an, www.nghean.gov.vn=nghe-an")
    assert politeness_group(portal_for_url("https://khxhnvnghean.gov.vn/"), overrides) == "nghe-an"
    assert politeness_group(province, overrides) == "nghe-an"
    with pytest.raises(UsageError):
        parse_groups("no-equals-sign")


def _state(name: str, slots: int, running: int = 0, pending: int = 0, up: bool = True) -> NodeState:
    return NodeState(Node.parse(name), slots, running, pending, jobs=set() if up else None)


def test_plan_fills_free_slots_first_then_queues_evenly_and_bounds_batches():
    nodes = [_state("a:1", 4, running=3), _state("b:1", 4), _state("c:1", 4, up=False)]
    chains = [[f"p{i}.gov.vn"] for i in range(10)]
    placed = plan(chains, nodes, batch=20)
    assert len(placed) == 5, "one job per free slot (1 on a, 4 on b)"
    assert sorted(state.node.name for state, _ in placed) == ["a:1", "b:1", "b:1", "b:1", "b:1"]
    assert sorted(h for _, job in placed for chain in job for h in chain) == sorted(c[0] for c in chains)
    many = plan([[f"p{i}.gov.vn"] for i in range(100)], nodes, batch=10)
    assert len(many) == 10, "more jobs than free slots when a job would exceed the batch"
    assert all(len(job) == 10 for _, job in many), "no job over the batch size"
    queued = [state.node.name for state, _ in many[5:]]  # beyond the free slots: pending, spread evenly
    assert abs(queued.count("a:1") - queued.count("b:1")) <= 1, queued
    group = [["x.nghean.gov.vn", "y.nghean.gov.vn"]]
    assert plan(group, nodes, batch=20)[0][1] == group, "a group's portals stay together, in order"
    assert plan(chains, [_state("d:1", 4, up=False)], batch=20) == []


class _Lease:
    def __init__(self, **values):
        self.site, self.node, self.job, self.finished_at = "a.gov.vn", "n:1", "j", None
        self.__dict__.update(values)


def test_a_lease_lives_while_its_crawl_holds_the_lock_or_its_node_lists_the_job():
    held = {lock_key("a.gov.vn")}
    assert lease_live(_Lease(), held, {"n:1": None}), "a killed daemon's crawl still holds its portal"
    assert lease_live(_Lease(), set(), {"n:1": {"j"}}), "pending on its node"
    assert not lease_live(_Lease(), set(), {"n:1": None}), "node lost, crawl gone"
    assert not lease_live(_Lease(), set(), {"n:1": {"other"}}), "the job ended without giving it back"
    assert not lease_live(_Lease(finished_at=1), held, {"n:1": {"j"}})
    assert not lease_live(_Lease(job=None), held, {})


def test_a_fleet_needs_postgresql(tmp_path):
    from conftest import run_govnews

    registry = tmp_path / "portals.toml"
    registry.write_text('[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\n', encoding="utf-8")
    result = run_govnews(
        "schedule", "run", "--nodes", "http://127.0.0.1:9", "--db", f"sqlite:///{tmp_path / 'g.db'}",
        "--registry", str(registry),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "PostgreSQL" in result.stderr


def test_fleet_status_of_a_node_that_does_not_answer(tmp_path):
    from conftest import run_govnews

    result = run_govnews("fleet", "status", "--nodes", "http://fleet:s3cret@127.0.0.1:9")
    assert result.returncode == 1
    assert "127.0.0.1:9" in result.stdout
    assert "unreachable" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
    assert run_govnews("fleet", "status").returncode == 2, "no nodes: a usage error"


def test_nodes_named_in_the_environment_dispatch_and_never_crawl_locally(tmp_path):
    """A dispatcher's unit file gives ``GOVNEWS_FLEET_NODES`` in its environment (as GOVNEWS_DB):
    found by a user whose ``schedule run`` crawled locally because only the settings were read."""
    from conftest import run_govnews

    registry = tmp_path / "portals.toml"
    registry.write_text('[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\n', encoding="utf-8")
    env = {"GOVNEWS_FLEET_NODES": "http://fleet:s3cret@127.0.0.1:9"}
    result = run_govnews(
        "schedule", "run", "--db", f"sqlite:///{tmp_path / 'g.db'}", "--registry", str(registry), env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "PostgreSQL" in result.stderr, "the dispatch path, not a local crawl"
    status = run_govnews("fleet", "status", env=env)
    assert status.returncode == 1
    assert "127.0.0.1:9" in status.stdout
    assert "unreachable" in status.stdout
    assert "s3cret" not in status.stdout + status.stderr
