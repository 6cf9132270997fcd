"""The portal registry: the shipped file loads; bad entries fail with a message naming them."""

from __future__ import annotations

from datetime import date

import pytest

from crawler.errors import UsageError
from crawler.registry import RegistryError, load_registry, portal_for_url, resolve_target


def test_shipped_registry_loads():
    registry = load_registry()
    portal = registry["khxhnvnghean.gov.vn"]
    assert portal.family == "nukeviet"
    assert portal.base_url == "https://khxhnvnghean.gov.vn/"
    assert "www.khxhnvnghean.gov.vn" in portal.hosts


def _write(tmp_path, text):
    path = tmp_path / "portals.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('host = "a.gov.vn"\nname = "A"\nfamily = "joomlaa"', "portal #1 (a.gov.vn): unknown family 'joomlaa'"),
        ('host = "a.gov.vn"\nfamily = "nukeviet"', "portal #1 (a.gov.vn): 'name' must be a non-empty string"),
        ('host = "https://a.gov.vn/"\nname = "A"\nfamily = "nukeviet"', "'host' must be a lower-case host name"),
        ('host = "<img src=x onerror=1>"\nname = "A"\nfamily = "nukeviet"', "'host' must be a lower-case host name"),
        ('host = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\nseeds = { pages = ["/"] }', "'seeds' takes only"),
        ('host = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\nbase_url = "https://b.gov.vn/"', "'base_url' must be"),
        ('host = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\ncolour = "red"', "unknown key(s) ['colour']"),
        ('host = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\ngroup = " "', "'group' must be a non-empty name"),
        ('host = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\ngroup = 3', "'group' must be a non-empty name"),
    ],
)
def test_bad_entry_is_named(tmp_path, entry, message):
    path = _write(
        tmp_path, f'[[portal]]\nhost = "ok.gov.vn"\nname = "Ok"\nfamily = "nukeviet"\n\n[[portal]]\n{entry}\n'
    )
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert message.replace("#1", "#2") in str(error.value)


def test_duplicate_host_refused(tmp_path):
    entry = '[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\n'
    with pytest.raises(RegistryError, match="host listed twice"):
        load_registry(_write(tmp_path, entry + "\n" + entry))


def test_broken_toml_refused(tmp_path):
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_registry(_write(tmp_path, "[[portal]\n"))


def test_targets_resolve_to_registry_or_url():
    registry = load_registry()
    assert resolve_target("https://www.khxhnvnghean.gov.vn/news/", registry).name.startswith("Trung tâm")
    other = resolve_target("https://xa-abc.nghean.gov.vn/tin-tuc/", registry)
    assert other.host == "xa-abc.nghean.gov.vn"
    assert other.base_url == "https://xa-abc.nghean.gov.vn/"
    with pytest.raises(RegistryError):
        portal_for_url("file:///etc/passwd")


_ENTRY = '[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\n'


def test_verified_needs_the_day_a_live_crawl_succeeded(tmp_path):
    with pytest.raises(RegistryError, match=r"portal #1 \(a\.gov\.vn\): 'verified = true' needs 'verified_at"):
        load_registry(_write(tmp_path, _ENTRY + "verified = true\n"))
    with pytest.raises(RegistryError, match=r"portal #1 \(a\.gov\.vn\): 'verified_at' is set but 'verified'"):
        load_registry(_write(tmp_path, _ENTRY + "verified_at = 2026-01-31\n"))
    with pytest.raises(RegistryError, match="'verified_at' must be a date"):
        load_registry(_write(tmp_path, _ENTRY + 'verified = true\nverified_at = "last week"\n'))
    with pytest.raises(RegistryError, match="in the future"):
        load_registry(_write(tmp_path, _ENTRY + "verified = true\nverified_at = 2999-01-01\n"))
    portal = load_registry(_write(tmp_path, _ENTRY + "verified = true\nverified_at = 2026-01-31\n"))["a.gov.vn"]
    assert (portal.verified, portal.verified_at, portal.verified_label) == (True, date(2026, 1, 31), "2026-01-31")
    assert load_registry(_write(tmp_path, _ENTRY))["a.gov.vn"].verified_label == "no"


def test_shipped_registry_claims_no_live_crawl_without_a_date():
    registry = load_registry()
    assert registry["khxhnvnghean.gov.vn"].verified is False  # its corpus is a stand-in recording
    assert all(p.verified_at is not None for p in registry.values() if p.verified)


def test_missing_registry_file_is_a_usage_error(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(RegistryError, match=f"registry file {missing} does not exist") as error:
        load_registry(missing)
    assert isinstance(error.value, UsageError)


def test_a_portal_names_its_politeness_group(tmp_path):
    """``group`` in the registry puts portals of one server in one fleet group (crawler.fleet);
    the dispatcher's GOVNEWS_FLEET_GROUPS still wins, and without either it is the registrable domain."""
    from crawler.fleet import parse_groups, politeness_group

    path = _write(
        tmp_path,
        '[[portal]]\nhost = "a.gov.vn"\nname = "A"\nfamily = "nukeviet"\ngroup = "vnpt-hanoi-01"\n\n'
        '[[portal]]\nhost = "xa-b.nghean.gov.vn"\nname = "B"\nfamily = "nukeviet"\n',
    )
    portals = load_registry(path)
    assert portals["a.gov.vn"].group == "vnpt-hanoi-01"
    assert politeness_group(portals["a.gov.vn"]) == "vnpt-hanoi-01"
    assert politeness_group(portals["xa-b.nghean.gov.vn"]) == "nghean.gov.vn"
    assert politeness_group(portals["a.gov.vn"], parse_groups("a.gov.vn=other")) == "other"
