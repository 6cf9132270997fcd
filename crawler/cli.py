"""``govnews``: crawl portals, export what is stored, list the registry.

Heavy modules (Scrapy, Twisted, SQLAlchemy) are imported inside the commands so
``govnews --help`` and ``govnews sites`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from crawler.errors import UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: another scheduled run holds the lock; cron tries again later


def _settings(args: argparse.Namespace):
    """Project settings with the command line on top; ``-s`` values typed (see crawler.preflight)."""
    from scrapy.settings import Settings

    from crawler.preflight import typed_setting

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if getattr(args, "db", None):
        settings.set("GOVNEWS_DB", args.db, priority="cmdline")
    if getattr(args, "registry", None):
        settings.set("GOVNEWS_REGISTRY", args.registry, priority="cmdline")
    if getattr(args, "archive", None):
        archives = [str(Path(p).resolve()) for p in args.archive]
        settings.set("GOVNEWS_ARCHIVES", archives, priority="cmdline")  # see crawler.archive.ReplayAddon
    if getattr(args, "record", None):
        settings.set("GOVNEWS_RECORD", str(Path(args.record).resolve()), priority="cmdline")
    if getattr(args, "no_keep_pages", False):
        settings.set("GOVNEWS_KEEP_PAGES", False, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING" if args.quiet else "INFO", priority="cmdline")
    for pair in getattr(args, "set", None) or []:
        name, value = typed_setting(pair, settings.get(pair.partition("=")[0].strip()))
        settings.set(name, value, priority="cmdline")
    return settings


def _db_url(explicit: str | None) -> str:
    """``--db`` (or the GOVNEWS_DB setting), else ``$GOVNEWS_DB``, else data/govnews.sqlite3."""
    from pipelines.db import database_url

    return database_url(explicit)


def _registry(path: str | None) -> dict:
    from crawler.preflight import check_input_file
    from crawler.registry import RegistryError, load_registry

    if path:
        check_input_file(path, "registry file")
    try:
        return load_registry(path)
    except RegistryError as error:
        raise UsageError(str(error)) from None


def _resolve(target: str, registry) -> Any:
    from crawler.preflight import check_target
    from crawler.registry import RegistryError, resolve_target

    check_target(target)
    try:
        return resolve_target(target, registry)
    except RegistryError as error:
        raise UsageError(str(error)) from None


def _open_archives(settings) -> None:
    """Index the WARC files now, so a missing, corrupt or truncated one stops the command before
    the crawl starts; the replay handlers reuse this index (crawler.archive.open_archives)."""
    paths = settings.getlist("GOVNEWS_ARCHIVES")
    if paths:
        from crawler.archive import open_archives

        open_archives(paths)


@dataclass(slots=True)
class CrawlOutcome:
    portal: Any
    stats: dict
    reason: str
    ok: bool


def portal_spider_class(portal) -> type:
    """The portal spider, without certificate checks for a portal the registry opts out (broken chain)."""
    from crawler.spiders.portal import PortalSpider

    if portal.verify_tls:
        return PortalSpider
    custom = {**(PortalSpider.custom_settings or {}), "DOWNLOAD_VERIFY_CERTIFICATES": False}
    return type("PortalSpider", (PortalSpider,), {"custom_settings": custom})


def run_crawls(settings, jobs: list[tuple[str, Any, bool]], registry, family: str | None = None) -> list[CrawlOutcome]:
    """Crawl (target, portal, full) jobs in one Twisted reactor; one Scrapy crawler per portal."""
    from scrapy.crawler import CrawlerProcess

    from crawler.outcome import verdict

    process = CrawlerProcess(settings, install_root_handler=True)
    crawlers = []
    for target, portal, full in jobs:
        crawler = process.create_crawler(portal_spider_class(portal))
        crawlers.append((portal, crawler))
        if portal.host in registry:
            process.crawl(crawler, site=portal.host, family=family, full=full)
        else:
            url = target if "://" in target else portal.base_url
            process.crawl(crawler, url=url, family=family, full=full)
    process.start()
    outcomes = []
    for portal, crawler in crawlers:
        stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
        v = verdict(stats, stats.get("finish_reason"))
        outcomes.append(CrawlOutcome(portal, stats, v.reason, v.ok))
    return outcomes


def print_summary(outcomes: list[CrawlOutcome]) -> None:
    from crawler.extensions.progress import error_count

    print("\ngovnews crawl summary", file=sys.stderr)
    print(f"{'portal':40} {'pages':>7} {'articles':>9} {'stored':>7} {'errors':>7}  finish", file=sys.stderr)
    for outcome in outcomes:
        stats = outcome.stats
        print(
            f"{outcome.portal.host:40} {stats.get('response_received_count', 0):7d}"
            f" {stats.get('item_scraped_count', 0):9d} {stats.get('govnews/stored', 0):7d}"
            f" {error_count(stats):7d}  {outcome.reason}{'' if outcome.ok else '  FAILED'}",
            file=sys.stderr,
        )
        if stats.get("govnews/deadletter_file"):
            print(f"  unsaved articles were written to {stats['govnews/deadletter_file']}", file=sys.stderr)
        if stats.get("govnews/profile/changed"):
            print(f"  the site changed shape: {stats['govnews/profile/changed']}", file=sys.stderr)
        if stats.get("govnews/diagnostics") and not stats.get("item_scraped_count"):
            print(f"  no article: {stats['govnews/diagnostics']}", file=sys.stderr)


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.preflight import check_database, check_family, check_output_file, check_target

    check_family(args.family)
    for target in args.targets:
        check_target(target)
    settings = _settings(args)
    registry = _registry(settings.get("GOVNEWS_REGISTRY"))
    portals = [_resolve(target, registry) for target in args.targets]
    check_database(_db_url(settings.get("GOVNEWS_DB")), create=True)
    if settings.get("GOVNEWS_RECORD"):
        check_output_file(settings.get("GOVNEWS_RECORD"))
    _open_archives(settings)
    jobs = [(target, portal, args.full) for target, portal in zip(args.targets, portals, strict=True)]
    outcomes = run_crawls(settings, jobs, registry, args.family)
    print_summary(outcomes)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_schedule(args: argparse.Namespace) -> int:
    from crawler.preflight import check_database
    from crawler.schedule import LockHeld, Scheduler, schedule_lock
    from pipelines.db import make_engine

    settings = _settings(args)
    registry = _registry(settings.get("GOVNEWS_REGISTRY"))
    if args.site and args.site.removeprefix("www.") not in registry:
        raise UsageError(f"--site {args.site}: no such portal in the registry (see `govnews sites`)")
    db_url = _db_url(settings.get("GOVNEWS_DB"))
    if args.action == "status":
        check_database(db_url, create=False)
        Scheduler(make_engine(db_url), registry).print_status(only=args.site)
        return EXIT_OK
    check_database(db_url, create=True)
    _open_archives(settings)
    scheduler = Scheduler.open(db_url, registry)
    nodes = _fleet_nodes(args, settings)
    if nodes:
        return _dispatch(args, settings, scheduler, nodes)
    try:
        with schedule_lock(args.lock or settings.get("GOVNEWS_SCHEDULE_LOCK")):
            due = scheduler.due(only=args.site)
            if not due:
                print("govnews schedule: nothing is due", file=sys.stderr)
                return EXIT_OK
            print(
                "govnews schedule: crawling "
                + ", ".join(f"{p.host} ({'full' if full else 'incremental'})" for p, full in due),
                file=sys.stderr,
            )
            scheduler.started(due)
            outcomes = run_crawls(settings, [(p.host, p, full) for p, full in due], registry)
            scheduler.finished(outcomes)
            print_summary(outcomes)
            return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED
    except LockHeld as error:
        print(f"govnews schedule: {error}", file=sys.stderr)
        return EXIT_LOCKED


def _fleet_nodes(args: argparse.Namespace, settings):
    """``--nodes``, else the GOVNEWS_FLEET_NODES setting, else ``$GOVNEWS_FLEET_NODES`` (as GOVNEWS_DB is read):
    a dispatcher's unit file or cron environment names its nodes there, and must not fall back to
    crawling locally because the name was only looked up among the settings."""
    import os

    return args.nodes or settings.get("GOVNEWS_FLEET_NODES") or os.environ.get("GOVNEWS_FLEET_NODES") or None


def _job_settings(args: argparse.Namespace, settings) -> list[tuple[str, str]]:
    """What each fleet job receives as ``-s``: --registry, --archive, --no-keep-pages and every -s given."""
    from crawler.fleet import job_settings

    pairs = []
    if settings.get("GOVNEWS_REGISTRY"):
        pairs.append(("GOVNEWS_REGISTRY", str(Path(settings.get("GOVNEWS_REGISTRY")).resolve())))
    if settings.getlist("GOVNEWS_ARCHIVES"):
        pairs.append(("GOVNEWS_ARCHIVES", ",".join(settings.getlist("GOVNEWS_ARCHIVES"))))
    if getattr(args, "no_keep_pages", False):
        pairs.append(("GOVNEWS_KEEP_PAGES", "False"))
    for pair in getattr(args, "set", None) or []:
        name, _, value = pair.partition("=")
        pairs.append((name.strip(), value))
    return job_settings(pairs)


def _dispatch(args: argparse.Namespace, settings, scheduler, nodes) -> int:
    """``schedule run --nodes``: send the due portals to scrapyd (crawler.fleet_dispatch); no local crawl."""
    from crawler.fleet import parse_groups
    from crawler.fleet_dispatch import dispatch, print_dispatch
    from crawler.fleet_nodes import parse_nodes

    report = dispatch(
        scheduler.engine,
        scheduler,
        parse_nodes(nodes),
        _job_settings(args, settings),
        slots=settings.getint("GOVNEWS_NODE_SLOTS"),
        batch=settings.getint("GOVNEWS_FLEET_BATCH"),
        groups=parse_groups(settings.get("GOVNEWS_FLEET_GROUPS")),
        only=args.site,
    )
    print_dispatch(report, sys.stderr)
    if not any(state.jobs is not None for state in report.nodes):
        return EXIT_FAILED
    return EXIT_FAILED if report.failed else EXIT_OK


def cmd_fleet(args: argparse.Namespace) -> int:
    """Per scrapyd node: running, pending and finished jobs; with a database, each live job's portals."""
    import os

    from crawler.fleet_nodes import parse_nodes
    from crawler.fleet_status import leased_portals, print_fleet
    from crawler.preflight import check_database

    settings = _settings(args)
    nodes = parse_nodes(_fleet_nodes(args, settings))
    if not nodes:
        raise UsageError("fleet status: no nodes (--nodes URL[,URL...], or setting or environment GOVNEWS_FLEET_NODES)")
    portals = {}
    if args.db or settings.get("GOVNEWS_DB") or os.environ.get("GOVNEWS_DB"):
        from pipelines.db import make_engine

        db_url = _db_url(settings.get("GOVNEWS_DB"))
        check_database(db_url, create=False)
        portals = leased_portals(make_engine(db_url))
    up = print_fleet(nodes, settings.getint("GOVNEWS_NODE_SLOTS"), portals, sys.stdout)
    return EXIT_OK if up else EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    from crawler.preflight import check_database, check_output_file, last_change, parse_day
    from pipelines.db import make_engine
    from pipelines.export import ExportQuery, iter_records, write_csv, write_jsonl, write_parquet

    if args.output == "-":  # the usual name for standard output
        args.output = None
    published_from, published_to = parse_day(args.date_from, "--from"), parse_day(args.date_to, "--to")
    if published_from and published_to and published_from > published_to:
        raise UsageError(f"--from {args.date_from} is after --to {args.date_to}: no article can match")
    if args.since is not None and args.since < 0:
        raise UsageError(f"--since {args.since}: a cursor is 0 or more")
    if args.format == "parquet":
        if not args.output:
            raise UsageError("--format parquet needs --output FILE (a parquet file is not written to a pipe)")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("parquet export needs pyarrow: pip install 'govnews[parquet]'") from None
    if args.output:
        check_output_file(args.output)
    db_url = _db_url(args.db)
    check_database(db_url, create=False)
    engine = make_engine(db_url)
    if args.since is not None:
        last = last_change(engine)
        if args.since > last:
            raise UsageError(f"--since {args.since}: cursor {args.since} is beyond the last change ({last})")
    spec = ExportQuery(
        site=args.site,
        since=args.since,
        published_from=published_from,
        published_to=published_to,
        include_removed=args.include_removed,
    )
    records = iter_records(engine, query_spec=spec)
    if args.format == "parquet":
        count = write_parquet(records, args.output)
    else:
        writer = write_csv if args.format == "csv" else write_jsonl
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = writer(records, out)
        else:
            count = writer(records, sys.stdout)
    print(f"govnews: exported {count} article(s); next cursor: {spec.next_cursor}", file=sys.stderr)
    return EXIT_OK


def _decode(body: bytes, content_type: str) -> str:
    from w3lib.encoding import html_to_unicode

    return html_to_unicode(content_type, body)[1]


def detect_profile(settings, target: str, registry, family: str | None = None) -> tuple[Any, Any]:
    """Learn a portal's profile the way a crawl starts (home page, robots.txt, sitemaps, feeds,
    a few listings and sample articles), storing nothing; (spider, stats) of that run."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.portal import PortalSpider

    settings = settings.copy()
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set(
        "EXTENSIONS",
        {
            "crawler.extensions.runs.CrawlRuns": None,
            "crawler.extensions.health.HealthChecks": None,
            "crawler.extensions.progress.Progress": None,
            "crawler.archive.WarcRecorder": None,
        },
        priority="cmdline",
    )
    portal_args = {"site": target} if target in registry else {"url": target}
    process = CrawlerProcess(settings, install_root_handler=True)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, profile_only=True, family=family, **portal_args)
    process.start()
    return crawler.spider, crawler.stats.get_stats() if crawler.stats else {}


def cmd_detect(args: argparse.Namespace) -> int:
    import json

    from crawler.preflight import check_family, check_target

    args.quiet = not args.verbose
    check_family(args.family)
    check_target(args.url)
    settings = _settings(args)
    registry = _registry(settings.get("GOVNEWS_REGISTRY"))
    portal = _resolve(args.url, registry)
    _open_archives(settings)
    target = portal.host if portal.host in registry else args.url
    spider, stats = detect_profile(settings, target, registry, args.family or "auto")  # detect, even if registered
    profile = getattr(spider, "profile", None) or (spider.current_profile() if spider else None)
    reached = any(stats.get(f"govnews/discovery/{kind}") for kind in ("pages", "feeds", "sitemaps"))
    if profile is None or not reached:
        if stats.get("govnews/archive/miss") and not stats.get("govnews/archive/hit"):
            why = "its pages are not in the web archive"
        else:
            why = f"no page could be read: {stats.get('finish_reason', 'not started')}"
        print(f"govnews: could not detect {args.url}: {why}", file=sys.stderr)
        return EXIT_FAILED
    report = {
        **profile.as_dict(),
        "articles_found": stats.get("govnews/discovery/articles_found", 0),
        "samples": spider.samples,
        "requests": stats.get("downloader/request_count", 0),
    }
    if stats.get("govnews/diagnostics"):
        report["diagnostics"] = stats["govnews/diagnostics"]
    if args.json:
        print(json.dumps(report, ensure_ascii=False, default=str))
        return EXIT_OK
    print(f"{profile.base_url}: {profile.family}")
    for line in profile.evidence:
        print(f"  - {line}")
    facts = {k: v for k, v in profile.facts.items() if v not in (None, [], {}, "", 0)}
    print("site shape:")
    for key, value in facts.items():
        print(f"  {key}: {value}")
    if profile.label:
        print(f"  article URLs: {profile.label}")
    for shape in profile.shapes.article_shapes()[:8]:
        print(f"  article shape: {shape}")
    print(
        f"feeds: {len(profile.feeds)}  sitemaps: {len(profile.sitemaps)}  articles found: {report['articles_found']}"
        f"  requests: {report['requests']}"
    )
    for sample in spider.samples:
        flag = " (degraded)" if sample["degraded"] else ""
        print(
            f"  sample{flag}: {sample['title']!r} {sample['published']} body {sample['body_chars']} chars;"
            f" {', '.join(sample['fields']) or 'no other fields'}"
        )
    if report.get("diagnostics"):
        print(f"diagnostics: {report['diagnostics']}")
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    """Each file on its own: one that cannot be read or parsed is a warning line, the rest go on."""
    import gzip
    import json
    import zlib

    from crawler.families import ParseError, get_family, parse_page
    from crawler.families.detect import detect_family
    from crawler.preflight import check_family
    from pipelines.normalise import normalise
    from pipelines.validate import missing_fields

    check_family(args.family)
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            raw = path.read_bytes()
            if path.suffix == ".gz":
                raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            if isinstance(error, EOFError | zlib.error | gzip.BadGzipFile):
                reason = f"truncated or corrupt gzip ({reason})"
            print(f"govnews: {name}: {reason}", file=sys.stderr)
            failed += 1
            continue
        page = parse_page(_decode(raw, ""))  # one tree for the URL, detection and the parser
        url = args.url or _page_url(page.root) or path.resolve().as_uri()
        family_name = args.family if args.family != "auto" else detect_family(page, url).family
        try:
            article = normalise(get_family(family_name).parse_article(page, url))
        except ParseError as error:
            print(f"govnews: {name}: {family_name}: {error}", file=sys.stderr)
            failed += 1
            continue
        record = _article_record(article)
        record["family"] = family_name
        missing = missing_fields(article)
        if missing:
            record["missing"] = missing
        print(json.dumps(record, ensure_ascii=False))
    if failed:
        print(f"govnews: {failed} of {len(args.files)} file(s) could not be read or parsed", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _page_url(document: Any) -> str | None:
    """The URL a saved page states for itself (``<link rel=canonical>``, else ``og:url``): with no
    ``--url``, relative links resolve against it instead of against the file's path."""
    if isinstance(document, str):
        from crawler.families import parse_page

        document = parse_page(document).root
    if document is None or not hasattr(document, "iter"):
        return None
    candidates = [
        link.get("href") for link in document.iter("link") if "canonical" in (link.get("rel") or "").lower().split()
    ]
    candidates += [
        meta.get("content")
        for meta in document.iter("meta")
        if (meta.get("property") or meta.get("name") or "").lower() == "og:url"
    ]
    for candidate in candidates:
        url = (candidate or "").strip()
        if url.lower().startswith(("http://", "https://")) and "://" in url and url.split("://", 1)[1][:1] not in "/":
            return url
    return None


def _article_record(article) -> dict:
    from crawler.items import EXPORT_FIELDS
    from crawler.text.vn_dates import iso
    from pipelines.sanitise import sanitise_html

    record = {name: getattr(article, name, None) for name in EXPORT_FIELDS}
    record["published"], record["updated"] = iso(article.published), iso(article.updated)
    record["fetched_at"] = iso(article.fetched_at)
    record["body_html"] = sanitise_html(article.body_html, article.url)
    return record


def cmd_db(args: argparse.Namespace) -> int:
    from crawler.preflight import check_database, stored_revision
    from pipelines.db import SCHEMA_REVISION

    db_url = _db_url(args.db)
    if args.action == "status":  # a read: no file created, no Alembic, an older schema shown, not upgraded
        check_database(db_url, create=False, allow_old=True)
        revision = stored_revision(db_url)
        print(f"schema revision: {revision or 'none'} (current code: {SCHEMA_REVISION})")
        return EXIT_OK
    from sqlalchemy.exc import SQLAlchemyError

    from pipelines.db import current_revision, head_revision, make_engine, upgrade

    check_database(db_url, create=True)
    engine = make_engine(db_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        now = current_revision(engine)
    except SQLAlchemyError as error:
        print(f"govnews: database error: {str(error).splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    print(f"schema revision: {now or 'none'} (was {before or 'none'}; current code: {head_revision()})")
    return EXIT_OK


_RUNS_SQL = (
    "SELECT id, site, mode, started_at, finished_at, finish_reason, stats, outcome, hostname, pid, node, job"
    " FROM crawl_runs{where} ORDER BY id DESC LIMIT :limit"
)


def _recorded_runs(engine, site: str | None, limit: int) -> list:
    """The last ``limit`` crawl runs, oldest first, with SQLAlchemy Core only: the ORM and the models
    are not imported for a listing (times typed as the models store them: naive UTC, made aware)."""
    from datetime import UTC

    from sqlalchemy import JSON, DateTime, Integer, String, text

    query = text(_RUNS_SQL.format(where=" WHERE site = :site" if site else "")).columns(
        id=Integer,
        site=String,
        mode=String,
        started_at=DateTime,
        finished_at=DateTime,
        finish_reason=String,
        stats=JSON,
        outcome=String,
        hostname=String,
        pid=Integer,
        node=String,
        job=String,
    )
    params = {"limit": limit, **({"site": site} if site else {})}
    with engine.connect() as connection:
        rows = connection.execute(query, params).all()
    runs = []
    for row in reversed(rows):
        run = row._asdict()
        for name in ("started_at", "finished_at"):
            if run[name] is not None:
                run[name] = run[name].replace(tzinfo=UTC)  # as pipelines.models.UTCDateTime reads it
        runs.append(argparse.Namespace(**run))
    return runs


def _run_state(run) -> str:
    """crawler.schedule.run_state, imported only for a run that has no recorded outcome (running,
    interrupted, or recorded before outcomes were): it brings the registry and the ORM along."""
    from crawler.schedule import run_state

    return run_state(run)


def cmd_reparse(args: argparse.Namespace) -> int:
    import json

    from crawler.keep_pages import pages_dir
    from crawler.preflight import check_database, check_family, parse_day
    from pipelines.db import make_engine
    from pipelines.reparse import Reparser

    if args.family:
        check_family(args.family)
    since = parse_day(args.since, "--since")
    db_url = _db_url(args.db)
    check_database(db_url, create=False)
    _registry(args.registry)  # a broken registry is one line, before any work
    reparser = Reparser(make_engine(db_url), pages_dir(args.pages_dir), args.registry)
    report = reparser.run(site=args.site, since=since, family=args.family, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        verb = "would change" if args.dry_run else "changed"
        print(
            f"govnews reparse: {report.selected} article(s) selected, {report.reparsed} reparsed"
            f" ({report.pages_per_s:.0f} pages/s), {report.changed} {verb}, {report.unchanged} unchanged,"
            f" {report.no_page} without a kept page, {report.failed} failed"
        )
        for name, count in sorted(report.fields.items(), key=lambda pair: (-pair[1], pair[0])):
            print(f"  {name:12} {count:7d}")
    return EXIT_FAILED if report.failed else EXIT_OK


def _stored_site(engine, host: str) -> bool:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text("SELECT 1 FROM sites WHERE host = :h"), {"h": host}).first() is not None


MAX_SEARCH_HITS = 1_000_000  # a search lists its hits ranked, with snippets; more is an export's work


def _site_option(value: str) -> str:
    """``--site``, normalised as the store keys portals (crawler.preflight.site_option, imported late)."""
    from crawler.preflight import site_option

    return site_option(value)


def cmd_search(args: argparse.Namespace) -> int:
    """Full-text search of the stored articles, diacritics ignored (pipelines.search)."""
    import json

    from crawler.preflight import check_database, parse_day
    from crawler.text.normalise import printable, terminal_safe_json
    from crawler.text.vn_dates import iso
    from pipelines.db import make_engine
    from pipelines.search import SearchQueryError, parse_query, search

    since = parse_day(args.since, "--since")
    if not 1 <= args.limit <= MAX_SEARCH_HITS:
        raise UsageError(f"--limit {args.limit}: give 1 to {MAX_SEARCH_HITS:,} (for every article, `govnews export`)")
    try:
        query = parse_query(args.query)
    except SearchQueryError as error:
        raise UsageError(str(error)) from None
    db_url = _db_url(args.db)
    check_database(db_url, create=False)
    bold = not args.json and sys.stdout.isatty()
    marks = ("\033[1m", "\033[0m") if bold else ("**", "**")
    engine = make_engine(db_url)
    hits = search(
        engine,
        query,
        site=args.site,
        since=since,
        limit=args.limit,
        include_removed=args.include_removed,
        marks=marks,
    )
    for position, hit in enumerate(hits, start=1):
        # stored text may hold terminal controls (stored before clean_text dropped them, or by another
        # tool): escaped in JSON, spaces on a tab-separated line
        if args.json:
            record = {
                "url": hit.url,
                "site": hit.site,
                "published": iso(hit.published),
                "title": hit.title,
                "summary": hit.summary,
                "snippet": hit.snippet,
                "rank": position,
                "removed_at": iso(hit.removed_at),
            }
            print(terminal_safe_json(json.dumps(record, ensure_ascii=False)))
        else:
            published = iso(hit.published)[:10] if hit.published else "-"
            fields = (hit.url, hit.site, published, hit.title, hit.snippet)
            print("\t".join(printable(field) for field in fields))
    if not hits and args.site and not _stored_site(engine, args.site):
        print(f"govnews search: no portal {args.site} in the store (see `govnews runs`)", file=sys.stderr)
    print(f"govnews search: {len(hits)} article(s)", file=sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Browse, search and chart the SQLite store in Datasette, read-only (crawler.serve)."""
    from crawler.serve import serve

    return serve(_db_url(args.db), host=args.host, port=args.port, metadata_out=args.metadata)


def cmd_runs(args: argparse.Namespace) -> int:
    import json

    from crawler.preflight import check_database
    from crawler.text.vn_dates import iso
    from pipelines.db import make_engine

    db_url = _db_url(args.db)
    check_database(db_url, create=False)
    engine = make_engine(db_url)
    runs = _recorded_runs(engine, args.site.removeprefix("www.") if args.site else None, args.limit)
    rows = []
    for run in runs:
        summary = (run.stats or {}).get("summary", {})
        rows.append(
            {
                "id": run.id,
                "site": run.site,
                "mode": run.mode,
                "started_at": iso(run.started_at),
                "finished_at": iso(run.finished_at),
                "finish_reason": run.finish_reason,
                "node": run.node or run.hostname,  # a fleet job's scrapyd node, else the machine
                "job": run.job,
                **summary,
                "outcome": run.outcome or _run_state(run),  # the CLI's verdict; running / interrupted if none yet
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    print_runs(rows)
    from crawler.keep_pages import disk_use, pages_dir

    root = pages_dir()
    files, size = disk_use(root)
    print(f"kept pages: {files} file(s), {size / 1e6:.1f} MB in {root} (govnews reparse reads them)", file=sys.stderr)
    return EXIT_OK


_RUN_COLUMNS = (  # header, cell; every column left-aligned, so each starts where its header does
    ("id", lambda r: str(r["id"])),
    ("site", lambda r: r["site"] or ""),
    ("node", lambda r: r.get("node") or "-"),
    ("mode", lambda r: r["mode"] or ""),
    ("started", lambda r: r["started_at"] or ""),
    ("req", lambda r: str(r.get("requests", 0))),
    ("new", lambda r: str(r.get("articles", {}).get("new", 0))),
    ("upd", lambda r: str(r.get("articles", {}).get("updated", 0))),
    ("same", lambda r: str(r.get("articles", {}).get("unchanged", 0))),
    ("dup", lambda r: str(r.get("articles", {}).get("duplicate", 0))),
    ("gone", lambda r: str(r.get("articles", {}).get("removed", 0))),
    ("err", lambda r: str(r.get("errors", 0))),
    ("kept", lambda r: f"{r.get('kept_bytes', 0) / 1e6:.1f}MB" if r.get("kept_pages") else "-"),
    ("outcome", lambda r: r["outcome"]),
)


def print_runs(rows: list[dict], out=None) -> None:
    """The runs table, each column as wide as its widest cell (long host names stay aligned)."""
    out = out or sys.stdout
    headers = [header for header, _ in _RUN_COLUMNS]
    cells = [[cell(row) for _, cell in _RUN_COLUMNS] for row in rows]
    widths = [max([len(header), *(len(line[i]) for line in cells)]) for i, header in enumerate(headers)]
    for line in [headers, *cells]:
        print(" ".join(f"{text:{width}}" for text, width in zip(line, widths, strict=True)).rstrip(), file=out)


def cmd_sites(args: argparse.Namespace) -> int:
    registry = _registry(args.registry)
    print(f"{'host':34} {'family':18} {'province':15} {'verified':10}  name")
    for portal in sorted(registry.values(), key=lambda p: p.host):
        print(
            f"{portal.host:34} {portal.family:18} {portal.province or '':15} {portal.verified_label:10}  {portal.name}"
        )
    return EXIT_OK


def cmd_deadletter(args: argparse.Namespace) -> int:
    """Store what a crawl dead-lettered while the database was down (pipelines.deadletter)."""
    from crawler.preflight import check_database, check_input_file

    check_input_file(args.file, "dead-letter file")
    db_url = _db_url(args.db)
    check_database(db_url, create=True)
    from pipelines.deadletter import load_file

    result = load_file(db_url, args.file)
    done = f"marked done as {result.done_path}" if result.done_path else "not marked done"
    print(
        f"govnews: loaded {result.loaded} article(s) from {args.file} ({result.already} already stored,"
        f" {result.failed} failed); {done}",
        file=sys.stderr,
    )
    return EXIT_OK if result.failed == 0 else EXIT_FAILED


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as the CLI's other usage errors: one ``govnews: ...`` line, exit 2."""

    def error(self, message: str) -> NoReturn:
        print(
            f"govnews: {self.prog.removeprefix('govnews').strip() or 'govnews'}: {message} (see --help)",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("govnews")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked (importlib.metadata costs a few ms at every start)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None) -> None:  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        print(f"govnews {_version()}")
        raise SystemExit(EXIT_OK)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="govnews", description="Crawl Vietnamese government news portals into SQL.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl portals (registry hosts or URLs) into the database")
    crawl.add_argument("targets", nargs="+", metavar="TARGET", help="registry host or any URL of a portal")
    crawl.add_argument("--archive", action="append", metavar="WARC", help="replay from this WARC (repeatable)")
    crawl.add_argument("--record", metavar="WARC", help="record every response into this WARC file")
    crawl.add_argument("--family", help="CMS family for a portal not in the registry (default: detect)")
    crawl.add_argument("--full", action="store_true", help="re-check every stored article (default: incremental)")
    crawl.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    crawl.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    crawl.set_defaults(func=cmd_crawl)

    export = sub.add_parser("export", help="write stored articles as JSON lines, CSV or parquet")
    export.add_argument("--site", type=_site_option, help="only this portal host")
    export.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl")
    export.add_argument("--since", type=int, metavar="CURSOR", help="only articles new or changed after this cursor")
    export.add_argument("--from", dest="date_from", metavar="DATE", help="published on or after (YYYY-MM-DD)")
    export.add_argument("--to", dest="date_to", metavar="DATE", help="published before (YYYY-MM-DD)")
    export.add_argument("--include-removed", action="store_true", help="also articles found gone (404/410)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)

    detect = sub.add_parser("detect", help="learn a portal's family and shape (its site profile), storing nothing")
    detect.add_argument("url", help="registry host or any URL of the portal")
    detect.add_argument("--archive", action="append", metavar="WARC", help="replay from this WARC (repeatable)")
    detect.add_argument("--family", help="skip detection: use this CMS family")
    detect.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    detect.add_argument("--json", action="store_true", help="the profile as one JSON object")
    detect.add_argument("--verbose", "-v", action="store_true", help="log the crawl at INFO")
    detect.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    detect.set_defaults(func=cmd_detect)

    extract = sub.add_parser("extract", help="parse saved pages (.html, .html.gz) into JSON lines, no crawl")
    extract.add_argument("files", nargs="+", metavar="FILE")
    extract.add_argument(
        "--url", help="the URL the page was fetched from (default: the page's canonical link or og:url)"
    )
    extract.add_argument("--family", default="auto", help="CMS family, or auto (detect from the page)")
    extract.set_defaults(func=cmd_extract)

    db = sub.add_parser(
        "db",
        help="database schema: upgrade to the current revision, or show it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="upgrade: bring the database to this govnews's schema (Alembic migrations; creates an SQLite\n"
        "         file that does not exist yet)\n"
        "status:  show the database's schema revision and this govnews's (reads only, creates nothing)",
    )
    db.add_argument("action", choices=("upgrade", "status"), help="upgrade the schema, or show its revision")
    db.set_defaults(func=cmd_db)

    schedule = sub.add_parser(
        "schedule",
        help="crawl every portal that is due (for cron/systemd), or show status",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="run:    crawl every registry portal that is due, once, then exit (a lock allows one run);\n"
        "        with --nodes, send them as jobs to scrapyd nodes instead (README: A fleet)\n"
        "status: per portal: last start, last success, next due, next full pass, last run, fleet job\n"
        "        (running / queued / lost, node, job), failures, last error",
    )
    schedule.add_argument("action", choices=("run", "status"), help="crawl what is due, or show the schedule")
    schedule.add_argument("--site", type=_site_option, help="only this portal (run: if due)")
    schedule.add_argument("--archive", action="append", metavar="WARC", help="replay from WARC files (tests)")
    schedule.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    schedule.add_argument("--lock", help="lock file (default: data/govnews-schedule.lock)")
    schedule.add_argument(
        "--nodes",
        metavar="URL[,URL...]",
        help="run: send the due portals as jobs to these scrapyd nodes (http://user:password@host:6800),"
        " no local crawl (setting or environment GOVNEWS_FLEET_NODES)",
    )
    schedule.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    schedule.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    schedule.set_defaults(func=cmd_schedule)

    fleet = sub.add_parser(
        "fleet",
        help="the scrapyd nodes of a fleet: running, pending and finished jobs per node",
        description="status: per node its running, pending and finished jobs and free slots; with a database\n"
        "(--db or $GOVNEWS_DB), the portals each running or pending job holds.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fleet.add_argument("action", choices=("status",), help="show the nodes")
    fleet.add_argument(
        "--nodes", metavar="URL[,URL...]", help="scrapyd nodes (default: setting or environment GOVNEWS_FLEET_NODES)"
    )
    fleet.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a setting")
    fleet.set_defaults(func=cmd_fleet)

    runs = sub.add_parser("runs", help="list recorded crawl runs and their counts")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.add_argument("--site", type=_site_option, help="only this portal host")
    runs.add_argument("--limit", type=int, default=50, help="the most recent N runs (default 50)")
    runs.set_defaults(func=cmd_runs)

    sites = sub.add_parser("sites", help="list the portal registry")
    sites.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    sites.set_defaults(func=cmd_sites)

    deadletter = sub.add_parser("deadletter", help="store the articles a crawl wrote to a dead-letter file")
    deadletter.add_argument("action", choices=("load",), help="load: store the file's articles, mark it done")
    deadletter.add_argument("file", metavar="FILE", help="a dead-letter file (see GOVNEWS_DEADLETTER_DIR)")
    deadletter.set_defaults(func=cmd_deadletter)

    reparse = sub.add_parser(
        "reparse",
        help="re-extract stored articles from their kept pages with the current parsers (no network)",
        description="Re-extract stored articles from the pages crawls kept (a WARC per run under the data\n"
        "directory, or the replayed archive), with today's parsers; a new version is written only\n"
        "where a field changed, and the changes are counted per field.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reparse.add_argument("--site", type=_site_option, help="only this portal host")
    reparse.add_argument("--since", metavar="DATE", help="only articles published on or after (YYYY-MM-DD)")
    reparse.add_argument("--family", help="only articles this CMS family parsed")
    reparse.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    reparse.add_argument("--pages-dir", help="kept pages directory (default: data/pages)")
    reparse.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    reparse.add_argument("--json", action="store_true", help="the report as one JSON object")
    reparse.set_defaults(func=cmd_reparse)

    search = sub.add_parser(
        "search",
        help="full-text search of stored articles, with or without diacritics",
        description='Find stored articles: every word must occur (tone marks and đ/d ignored: "dang bo" finds\n'
        '"Đảng bộ"), "quoted words" as a phrase, word* as a prefix. Best first: title, then lead, then body.\n'
        "One tab-separated line per hit: url, site, published, title, snippet (matches in **bold**).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search.add_argument("query", metavar="QUERY", help='words, "a phrase", prefix*')
    search.add_argument("--site", type=_site_option, help="only this portal host")
    search.add_argument("--since", metavar="DATE", help="only articles published on or after (YYYY-MM-DD)")
    search.add_argument("--limit", type=int, default=20, help="at most N hits (default 20)")
    search.add_argument("--include-removed", action="store_true", help="also articles found gone (404/410)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.set_defaults(func=cmd_search)

    serve = sub.add_parser(
        "serve",
        help="browse, search and chart the store in a web browser (Datasette, read-only)",
        description="Datasette over the SQLite store, opened read-only (crawls may keep writing): search box\n"
        "without diacritics, facets by portal, category and month, canned queries, sanitised article pages\n"
        "with their captioned images and earlier versions, and a dashboard at /-/dashboards/govnews.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    serve.add_argument("--metadata", metavar="FILE", help="write the Datasette metadata to FILE (JSON) and exit")
    serve.set_defaults(func=cmd_serve)

    for command in (crawl, schedule):
        command.add_argument(
            "--no-keep-pages", action="store_true", help="do not keep article pages for govnews reparse"
        )
    for command in (crawl, export, db, runs, schedule, deadletter, reparse, search, serve, fleet):
        command.add_argument("--db", help="SQLAlchemy database URL (default: $GOVNEWS_DB or data/govnews.sqlite3)")
    for command in (crawl,):
        command.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a :class:`UsageError` from any module is one line on stderr and exit 2."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or an argparse error already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if argv is None and args.command in ("export", "sites", "extract", "runs", "search"):
        import signal  # `govnews export | head` ends quietly; never for a crawl, whose sockets need EPIPE

        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if not hasattr(args, "quiet"):
        args.quiet = False
    logging.captureWarnings(True)
    try:
        return args.func(args)
    except UsageError as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"govnews: {message.removeprefix('govnews: ')}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
