"""``govnews``: crawl portals, export what is stored, list the registry.

Heavy modules (Scrapy, Twisted, SQLAlchemy) are imported inside the commands so
``govnews --help`` and ``govnews sites`` start fast.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _settings(args: argparse.Namespace):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if args.db:
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


def cmd_crawl(args: argparse.Namespace) -> int:
    from scrapy.crawler import CrawlerProcess

    from crawler.extensions.progress import error_count
    from crawler.registry import RegistryError, load_registry, resolve_target
    from crawler.spiders.portal import PortalSpider

    settings = _settings(args)
    try:
        registry = load_registry(settings.get("GOVNEWS_REGISTRY"))
        portals = [resolve_target(target, registry) for target in args.targets]
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
    process = CrawlerProcess(settings, install_root_handler=True)
    crawlers = []
    for target, portal in zip(args.targets, portals, strict=True):
        crawler = process.create_crawler(PortalSpider)
        crawlers.append((portal, crawler))
        if portal.host in registry:
            process.crawl(crawler, site=portal.host, family=args.family)
        else:
            process.crawl(crawler, url=target if "://" in target else portal.base_url, family=args.family)
    process.start()

    failed = False
    print("\ngovnews crawl summary", file=sys.stderr)
    print(f"{'portal':40} {'pages':>7} {'articles':>9} {'stored':>7} {'errors':>7}  finish", file=sys.stderr)
    for portal, crawler in crawlers:
        stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
        reason = stats.get("finish_reason", "not started")
        errors = error_count(stats)
        reached = any(stats.get(f"govnews/discovery/{kind}") for kind in ("pages", "feeds", "sitemaps"))
        if not reached and reason == "finished":
            reason = "portal unreachable (no listing, feed or sitemap could be read)"
        ok = reason == "finished" and not stats.get("govnews/deadletter")
        failed |= not ok
        print(
            f"{portal.host:40} {stats.get('response_received_count', 0):7d} {stats.get('item_scraped_count', 0):9d}"
            f" {stats.get('govnews/stored', 0):7d} {errors:7d}  {reason}{'' if ok else '  FAILED'}",
            file=sys.stderr,
        )
        if stats.get("govnews/deadletter_file"):
            print(f"  unsaved articles were written to {stats['govnews/deadletter_file']}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.db import init_db, make_engine
    from pipelines.export import iter_records, write_csv, write_jsonl

    engine = make_engine(args.db)
    init_db(engine)
    writer = write_csv if args.format == "csv" else write_jsonl
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = writer(iter_records(engine, args.site), out)
    else:
        count = writer(iter_records(engine, args.site), sys.stdout)
    print(f"govnews: exported {count} article(s)", file=sys.stderr)
    return EXIT_OK


def cmd_sites(args: argparse.Namespace) -> int:
    from crawler.registry import RegistryError, load_registry

    try:
        registry = load_registry(args.registry)
    except RegistryError as error:
        print(f"govnews: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{'host':40} {'family':10} {'province':16} {'verified':8}  name")
    for portal in sorted(registry.values(), key=lambda p: p.host):
        print(
            f"{portal.host:40} {portal.family:10} {portal.province or '':16} {'yes' if portal.verified else 'no':8}"
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
    crawl.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    crawl.add_argument("-s", "--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    crawl.set_defaults(func=cmd_crawl)

    export = sub.add_parser("export", help="write stored articles as JSON lines or CSV")
    export.add_argument("--site", help="only this portal host")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)

    sites = sub.add_parser("sites", help="list the portal registry")
    sites.add_argument("--registry", help="portal registry file (default: data/portals.toml)")
    sites.set_defaults(func=cmd_sites)

    for command in (crawl, export):
        command.add_argument("--db", help="SQLAlchemy database URL (default: $GOVNEWS_DB or data/govnews.sqlite3)")
    for command in (crawl,):
        command.add_argument("--quiet", "-q", action="store_true", help="log warnings and errors only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "quiet"):
        args.quiet = False
    logging.captureWarnings(True)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
