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
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: another scheduled run holds the lock; cron tries again later


def _settings(args: argparse.Namespace):
    from scrapy.settings import Settings

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
    settings.set("LOG_LEVEL", "WARNING" if args.quiet else "INFO", priority="cmdline")
    for pair in getattr(args, "set", None) or []:
        name, _, value = pair.partition("=")
        settings.set(name, value, priority="cmdline")
    return settings


@dataclass(slots=True)
class CrawlOutcome:
    portal: Any
    stats: dict
    reason: str
    ok: bool


def run_crawls(settings, jobs: list[tuple[str, Any, bool]], registry, family: str | None = None) -> list[CrawlOutcome]:
    """Crawl (target, portal, full) jobs in one Twisted reactor; one Scrapy crawler per portal."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.portal import PortalSpider

    process = CrawlerProcess(settings, install_root_handler=True)
    crawlers = []
    for target, portal, full in jobs:
        spider_class = PortalSpider
        if not portal.verify_tls:  # the registry's opt-out for a portal with a broken certificate chain
            custom = {**(PortalSpider.custom_settings or {}), "DOWNLOAD_VERIFY_CERTIFICATES": False}
            spider_class = type("PortalSpider", (PortalSpider,), {"custom_settings": custom})
        crawler = process.create_crawler(spider_class)
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
        reason = stats.get("finish_reason", "not started")
        reached = any(stats.get(f"govnews/discovery/{kind}") for kind in ("pages", "feeds", "sitemaps"))
        if not reached and reason == "finished":
            reason = "portal unreachable (no listing, feed or sitemap could be read)"
        if reason == "finished" and stats.get("govnews/health/failed"):
            reason = f"health check failed: {stats['govnews/health/failed']}"
        ok = reason == "finished" and not stats.get("govnews/deadletter")
        outcomes.append(CrawlOutcome(portal, stats, reason, ok))
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
    from crawler.registry import RegistryError, load_registry, resolve_target

    settings = _settings(args)
    try:
        registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
        portals = [resolve_target(target, registry) for target in args.targets]
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
    jobs = [(target, portal, args.full) for target, portal in zip(args.targets, portals, strict=True)]
    outcomes = run_crawls(settings, jobs, registry, args.family)
    print_summary(outcomes)
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED


def cmd_schedule(args: argparse.Namespace) -> int:
    from crawler.registry import RegistryError, load_registry
    from crawler.schedule import LockHeld, Scheduler, schedule_lock

    settings = _settings(args)
    try:
        registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
    scheduler = Scheduler.open(settings.get("GOVNEWS_DB"), registry)
    if args.action == "status":
        scheduler.print_status()
        return EXIT_OK
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


def _day(value: str | None):
    from crawler.text.vn_dates import parse_vn_date

    if value is None:
        return None
    moment = parse_vn_date(value, fallback=False)
    if moment is None:
        raise SystemExit(f"govnews: not a date: {value!r} (use YYYY-MM-DD)")
    return moment


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.db import init_db, make_engine
    from pipelines.export import ExportQuery, iter_records, write_csv, write_jsonl, write_parquet

    engine = make_engine(args.db)
    init_db(engine)
    spec = ExportQuery(
        site=args.site,
        since=args.since,
        published_from=_day(args.date_from),
        published_to=_day(args.date_to),
        include_removed=args.include_removed,
    )
    records = iter_records(engine, query_spec=spec)
    if args.format == "parquet":
        if not args.output:
            print("govnews: --format parquet needs --output FILE", file=sys.stderr)
            return EXIT_USAGE
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

    from crawler.registry import RegistryError, load_registry, resolve_target

    args.quiet = not args.verbose
    settings = _settings(args)
    try:
        registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
        portal = resolve_target(args.url, registry)
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
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
    import gzip
    import json

    from crawler.families import ParseError, get_family
    from crawler.families.detect import detect_family
    from pipelines.normalise import normalise
    from pipelines.validate import missing_fields

    failed = False
    for name in args.files:
        path = Path(name)
        try:
            raw = path.read_bytes()
            if path.suffix == ".gz":
                raw = gzip.decompress(raw)
        except OSError as error:
            print(f"govnews: {name}: {error}", file=sys.stderr)
            failed = True
            continue
        html = _decode(raw, "")
        url = args.url or path.resolve().as_uri()
        family_name = args.family if args.family != "auto" else detect_family(html, url).family
        try:
            article = normalise(get_family(family_name).parse_article(html, url))
        except ParseError as error:
            print(f"govnews: {name}: {family_name}: {error}", file=sys.stderr)
            failed = True
            continue
        record = _article_record(article)
        record["family"] = family_name
        missing = missing_fields(article)
        if missing:
            record["missing"] = missing
        print(json.dumps(record, ensure_ascii=False))
    return EXIT_FAILED if failed else EXIT_OK


def _article_record(article) -> dict:
    from crawler.items import EXPORT_FIELDS
    from crawler.text.vn_dates import iso
    from pipelines.export import sanitise_html

    record = {name: getattr(article, name, None) for name in EXPORT_FIELDS}
    record["published"], record["updated"] = iso(article.published), iso(article.updated)
    record["fetched_at"] = iso(article.fetched_at)
    record["body_html"] = sanitise_html(article.body_html)
    return record


def cmd_db(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from pipelines.db import current_revision, head_revision, make_engine, upgrade

    engine = make_engine(args.db)
    try:
        before = current_revision(engine)
        if args.action == "upgrade":
            upgrade(engine)
        now = current_revision(engine)
    except SQLAlchemyError as error:
        print(f"govnews: database error: {str(error).splitlines()[0]}", file=sys.stderr)
        return EXIT_FAILED
    print(f"schema revision: {now or 'none'} (was {before or 'none'}; current code: {head_revision()})")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    import json

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crawler.text.vn_dates import iso
    from pipelines.db import init_db, make_engine
    from pipelines.models import CrawlRun

    engine = make_engine(args.db)
    init_db(engine)
    with Session(engine) as session:
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(args.limit)
        if args.site:
            query = query.where(CrawlRun.site == args.site.removeprefix("www."))
        runs = list(reversed(session.scalars(query).all()))
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
                **summary,
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_OK
    print(
        f"{'id':>4} {'site':32} {'mode':11} {'started':25} {'reason':10} {'req':>5} {'new':>4} {'upd':>4} "
        f"{'same':>4} {'dup':>4} {'gone':>4} {'err':>4}"
    )
    for row in rows:
        a = row.get("articles", {})
        print(
            f"{row['id']:>4} {row['site']:32} {row['mode'] or '':11} {row['started_at'] or '':25} "
            f"{row['finish_reason'] or 'running':10} {row.get('requests', 0):>5} {a.get('new', 0):>4} "
            f"{a.get('updated', 0):>4} {a.get('unchanged', 0):>4} {a.get('duplicate', 0):>4} "
            f"{a.get('removed', 0):>4} {row.get('errors', 0):>4}"
        )
    return EXIT_OK


def cmd_sites(args: argparse.Namespace) -> int:
    from crawler.registry import RegistryError, load_registry

    try:
        registry = load_registry(args.registry)
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{'host':34} {'family':18} {'province':15} {'verified':8}  name")
    for portal in sorted(registry.values(), key=lambda p: p.host):
        print(
            f"{portal.host:34} {portal.family:18} {portal.province or '':15} {'yes' if portal.verified else 'no':8}"
            f"  {portal.name}"
        )
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govnews", description="Crawl Vietnamese government news portals into SQL.")
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

    export = sub.add_parser("export", help="write stored articles as JSON lines or CSV")
    export.add_argument("--site", help="only this portal host")
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
    extract.add_argument("--url", help="the URL the page was fetched from (resolves relative links)")
    extract.add_argument("--family", default="auto", help="CMS family, or auto (detect from the page)")
    extract.set_defaults(func=cmd_extract)

    db = sub.add_parser("db", help="database schema: upgrade to the current revision, or show it")
    db.add_argument("action", choices=("upgrade", "status"))
    db.set_defaults(func=cmd_db)

    schedule = sub.add_parser("schedule", help="crawl every portal that is due (for cron/systemd), or show status")
    schedule.add_argument("action", choices=("run", "status"))
    schedule.add_argument("--site", help="only this portal (if due)")
    schedule.add_argument("--archive", action="append", metavar="WARC", help="replay from WARC files (tests)")
    schedule.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    schedule.add_argument("--lock", help="lock file (default: data/govnews-schedule.lock)")
    schedule.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    schedule.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    schedule.set_defaults(func=cmd_schedule)

    runs = sub.add_parser("runs", help="list recorded crawl runs and their counts")
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.add_argument("--site", help="only this portal host")
    runs.add_argument("--limit", type=int, default=50, help="the most recent N runs (default 50)")
    runs.set_defaults(func=cmd_runs)

    sites = sub.add_parser("sites", help="list the portal registry")
    sites.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    sites.set_defaults(func=cmd_sites)

    for command in (crawl, export, db, runs, schedule):
        command.add_argument("--db", help="SQLAlchemy database URL (default: $GOVNEWS_DB or data/govnews.sqlite3)")
    for command in (crawl,):
        command.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in ("export", "sites", "extract", "runs"):
        import signal  # `govnews export | head` ends quietly; never for a crawl, whose sockets need EPIPE

        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if not hasattr(args, "quiet"):
        args.quiet = False
    logging.captureWarnings(True)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
