"""The portal registry: ``data/portals.toml``, one ``[[portal]]`` entry per portal.

Adding a portal of a known CMS family is one entry here, no code. Entries are
validated when loaded; a bad one stops the load with an error naming it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.errors import UsageError
from crawler.families import family_names
from crawler.preflight import is_host_name

REGISTRY_FILE = "portals.toml"
_SEED_KINDS = ("listings", "feeds", "sitemaps")
_KNOWN_KEYS = {
    "host",
    "name",
    "province",
    "family",
    "base_url",
    "seeds",
    "options",
    "verified",
    "verified_at",
    "aliases",
    "verify_tls",
    "schedule",
    "notes",
    "group",
}


class RegistryError(UsageError, ValueError):
    """The registry file is missing or an entry is malformed; the message names the entry and the field."""


DEFAULT_EVERY = timedelta(days=1)  # a portal without a schedule is crawled daily
DEFAULT_FULL_EVERY = timedelta(days=7)  # and fully re-checked weekly (edits show only on the article page)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str, where: str = "") -> timedelta:
    """ "30m", "6h", "1d", "2w" -> timedelta."""
    match = _DURATION.match(str(value))
    if not match:
        raise RegistryError(f"{where}: not a duration {value!r} (use e.g. 30m, 6h, 1d, 1w)")
    amount = timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})
    if amount < timedelta(minutes=5):
        raise RegistryError(f"{where}: {value!r} is too often for a government portal (at least 5m)")
    return amount


def _schedule(raw: Any, where: str, default: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
    if raw is None:
        return default
    if not isinstance(raw, dict) or set(raw) - {"every", "full_every"}:
        raise RegistryError(f"{where}: 'schedule' takes every and full_every, e.g. {{ every = \"30m\" }}")
    every = parse_duration(raw["every"], f"{where} schedule.every") if "every" in raw else default[0]
    full = parse_duration(raw["full_every"], f"{where} schedule.full_every") if "full_every" in raw else default[1]
    return every, full


@dataclass(frozen=True, slots=True)
class Portal:
    host: str
    name: str
    family: str
    base_url: str
    province: str | None = None
    seeds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    verified: bool = False
    """True only once a live crawl succeeded; then ``verified_at`` says when."""
    verified_at: date | None = None
    verify_tls: bool = True
    every: timedelta = DEFAULT_EVERY
    """How often ``govnews schedule run`` crawls it (incremental)."""
    full_every: timedelta = DEFAULT_FULL_EVERY
    """How often the crawl is a full pass re-checking every stored article."""
    group: str | None = None
    """Politeness group (crawler.fleet): portals of one server, crawled one at a time by the fleet;
    unset, the portal's registrable domain."""

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host name the portal answers on (with and without ``www.``)."""
        names = {self.host, *self.aliases}
        return tuple(sorted(names | {f"www.{n}" for n in names if not n.startswith("www.")}))

    def seed_urls(self, kind: str) -> list[str]:
        return [urljoin(self.base_url, path) for path in self.seeds.get(kind, ())]

    @property
    def verified_label(self) -> str:
        """What ``govnews sites`` prints: the date a live crawl confirmed the entry, else ``no``."""
        return self.verified_at.isoformat() if self.verified and self.verified_at else "no"


def portal_for_url(url: str, family: str = "auto") -> Portal:
    """A registry-less portal for any start URL (its host, its scheme, the family given)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower()
    host = host[4:] if host.startswith("www.") else host
    base = f"{parts.scheme}://{parts.netloc}/"
    return Portal(host=host, name=host, family=family, base_url=base)


def _entry(
    raw: Any, index: int, default_schedule: tuple[timedelta, timedelta] = (DEFAULT_EVERY, DEFAULT_FULL_EVERY)
) -> Portal:
    where = f"portal #{index + 1}"
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a table, got {type(raw).__name__}")
    host = raw.get("host")
    if isinstance(host, str) and host:
        where = f"portal #{index + 1} ({host})"
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in ("host", "name", "family"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RegistryError(f"{where}: '{key}' must be a non-empty string")
    if not is_host_name(host):  # the host reaches crawl_runs, the dashboard and URLs
        raise RegistryError(f"{where}: 'host' must be a lower-case host name, got {host!r}")
    known = family_names()
    if raw["family"] not in known and raw["family"] != "auto":
        raise RegistryError(f"{where}: unknown family {raw['family']!r} (known: {known})")
    base_url = raw.get("base_url", f"https://{host}/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").removeprefix("www.") != host:
        raise RegistryError(f"{where}: 'base_url' must be an http(s) URL on {host}, got {base_url!r}")
    seeds_raw = raw.get("seeds", {})
    if not isinstance(seeds_raw, dict) or set(seeds_raw) - set(_SEED_KINDS):
        raise RegistryError(f"{where}: 'seeds' takes only {list(_SEED_KINDS)}")
    seeds: dict[str, tuple[str, ...]] = {}
    for kind, values in seeds_raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise RegistryError(f"{where}: seeds.{kind} must be a list of URLs or paths")
        seeds[kind] = tuple(values)
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise RegistryError(f"{where}: 'options' must be a table")
    if raw["family"] != "auto":
        from crawler.families import get_family
        from crawler.families.preset import PresetError

        try:
            get_family(raw["family"], dict(options))
        except PresetError as error:
            raise RegistryError(f"{where}: {error}") from error
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise RegistryError(f"{where}: 'aliases' must be a list of host names")
    for flag in ("verified", "verify_tls"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise RegistryError(f"{where}: '{flag}' must be true or false")
    group = raw.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise RegistryError(f"{where}: 'group' must be a non-empty name (portals sharing one server)")
    verified_at = _verified_at(raw, where)
    every, full_every = _schedule(raw.get("schedule"), where, default_schedule)
    return Portal(
        host=host,
        name=raw["name"].strip(),
        every=every,
        full_every=full_every,
        family=raw["family"],
        base_url=base_url,
        province=raw.get("province"),
        seeds=seeds,
        options=options,
        aliases=tuple(aliases),
        verified=raw.get("verified", False),
        verified_at=verified_at,
        verify_tls=raw.get("verify_tls", True),
        group=group.strip() if group else None,
    )


def _verified_at(raw: dict, where: str) -> date | None:
    """``verified = true`` needs ``verified_at = YYYY-MM-DD``: the day a live crawl succeeded."""
    value = raw.get("verified_at")
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise RegistryError(f"{where}: 'verified_at' must be a date (YYYY-MM-DD), got {value!r}") from None
    if isinstance(value, datetime):
        value = value.date()
    if value is not None and not isinstance(value, date):
        raise RegistryError(f"{where}: 'verified_at' must be a date (YYYY-MM-DD), got {value!r}")
    if raw.get("verified", False):
        if value is None:
            raise RegistryError(
                f"{where}: 'verified = true' needs 'verified_at = YYYY-MM-DD', the day a live crawl succeeded"
            )
        if value > datetime.now(UTC).date():
            raise RegistryError(f"{where}: 'verified_at' {value} is in the future")
    elif value is not None:
        raise RegistryError(f"{where}: 'verified_at' is set but 'verified' is not true")
    return value


def load_registry(path: str | Path | None = None) -> dict[str, Portal]:
    """Portals by host; raises :class:`RegistryError` on the first bad entry."""
    from crawler.datafiles import data_file

    source = Path(path) if path else data_file(REGISTRY_FILE)
    if not source.is_file():
        raise RegistryError(f"registry file {source} does not exist")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(f"{source}: not valid TOML: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise RegistryError(f"registry file {source} cannot be read: {error}") from error
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - {"schedule"}:
        raise RegistryError(f"{source}: [defaults] takes only 'schedule'")
    default_schedule = _schedule(defaults.get("schedule"), "[defaults]", (DEFAULT_EVERY, DEFAULT_FULL_EVERY))
    portals: dict[str, Portal] = {}
    for index, raw in enumerate(data.get("portal", [])):
        portal = _entry(raw, index, default_schedule)
        if portal.host in portals:
            raise RegistryError(f"portal #{index + 1} ({portal.host}): host listed twice")
        portals[portal.host] = portal
    return portals


def resolve_target(target: str, registry: Mapping[str, Portal] | None = None) -> Portal:
    """A registry host (``khxhnvnghean.gov.vn``) or any URL of a portal."""
    registry = load_registry() if registry is None else registry
    key = target.strip().lower()
    bare = key.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.")
    if bare in registry:
        return registry[bare]
    for portal in registry.values():
        if bare in portal.aliases:
            return portal
    return portal_for_url(target)
