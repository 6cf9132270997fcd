"""Re-extract stored articles from their kept pages with today's parsers (``govnews reparse``).

No network: each article's page is read back from the WARC record ``article_pages``
points at (a kept-pages file, or the replayed archive), parsed by the family that
stored it (with the portal's registry options and learned profile, and the hints
discovery gave the parser then), normalised as a crawl does, and compared field by
field with the stored row. Only an article whose fields changed gets a new version;
the report counts, per field, how many articles changed. Categories are only ever
added: an article reached under several URLs collected the categories of each page,
and one kept page cannot show them all. When a parser is fixed,
the fix reaches the whole archive in minutes instead of a recrawl of every portal.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from crawler.items import EXPORT_FIELDS
from crawler.items import Article as ArticleItem
from pipelines import models as m

logger = logging.getLogger(__name__)

# What a reparse compares (and rewrites): every parsed field of the item.
FIELDS = (
    *(name for name in EXPORT_FIELDS if name not in ("url", "other_urls", "site", "duplicate_of", "fetched_at")),
    "source_key",
)
CHUNK = 200  # articles read, parsed and written per transaction


@dataclass
class ReparseReport:
    """What one reparse did; ``fields``: per field, how many articles it changed in."""

    selected: int = 0
    reparsed: int = 0
    changed: int = 0
    unchanged: int = 0
    no_page: int = 0
    failed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def pages_per_s(self) -> float:
        return self.reparsed / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "selected": self.selected,
            "reparsed": self.reparsed,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "no_page": self.no_page,
            "failed": self.failed,
            "fields": dict(sorted(self.fields.items())),
            "seconds": round(self.seconds, 3),
            "pages_per_s": round(self.pages_per_s, 1),
            "dry_run": self.dry_run,
        }


def changed_fields(stored: dict[str, Any], item: ArticleItem) -> list[str]:
    """The fields in which ``item`` differs from the stored article (``stored`` as :func:`_stored_rows`)."""
    changed = []
    for name in FIELDS:
        new, old = getattr(item, name), stored.get(name)
        if name == "updated" and new is None:
            continue  # no edit time on the page: the store may have noted when a crawl saw the edit
        if name == "categories":  # an article reached under several URLs collected each page's categories
            if any(c not in (old or []) for c in new or []):
                changed.append(name)
        elif name in ("tags", "captions", "attachments"):
            if list(new or []) != list(old or []):
                changed.append(name)
        elif name in ("title", "body_text"):
            if (new or "") != (old or ""):
                changed.append(name)
        elif isinstance(new, datetime) or isinstance(old, datetime):
            if new is None or old is None or new != old:
                changed.append(name)
        elif new != old:
            changed.append(name)
    return changed


class Reparser:
    """Reads kept pages and re-extracts their articles; :meth:`run` writes the changed ones."""

    def __init__(self, engine: Engine, pages_root: Path, registry: str | None = None) -> None:
        from crawler.keep_pages import PageReader
        from crawler.registry import load_registry
        from pipelines.store import ArticleStore

        self.engine = engine
        self.reader = PageReader(pages_root)
        self.portals = load_registry(registry)
        self.store = ArticleStore(engine, self.portals)
        self._families: dict[tuple[str, str], Any] = {}

    # -- selection -------------------------------------------------------------------------------
    def select_ids(self, site: str | None, since: datetime | None, family: str | None) -> list[int]:
        from sqlalchemy import func

        A, S = m.Article, m.Site
        query = select(A.id).join(S, S.id == A.site_id)
        if site:
            query = query.where(S.host == site.removeprefix("www."))
        if since is not None:
            query = query.where(func.coalesce(A.published, A.first_seen) >= since)
        if family:
            query = query.where(A.family == family)
        with self.engine.connect() as connection:
            return list(connection.scalars(query.order_by(A.id)))

    # -- the work ----------------------------------------------------------------------------------
    def run(
        self, site: str | None = None, since: datetime | None = None, family: str | None = None, dry_run: bool = False
    ) -> ReparseReport:
        report = ReparseReport(dry_run=dry_run)
        started = time.perf_counter()
        ids = self.select_ids(site, since, family)
        report.selected = len(ids)
        try:
            for start in range(0, len(ids), CHUNK):
                revisions = []
                for stored in _stored_rows(self.engine, ids[start : start + CHUNK]):
                    item = self._reextract(stored, report)
                    if item is None:
                        continue
                    report.reparsed += 1
                    changed = changed_fields(stored, item)
                    if not changed:
                        report.unchanged += 1
                        continue
                    report.changed += 1
                    report.fields.update(changed)
                    revisions.append((stored, item))
                if revisions and not dry_run:
                    self.store.revise(revisions)
        finally:
            self.reader.close()
        report.seconds = time.perf_counter() - started
        return report

    def _reextract(self, stored: dict[str, Any], report: ReparseReport) -> ArticleItem | None:
        from crawler.families import NotAnArticle, ParseError, parse_page
        from crawler.keep_pages import decode_hints
        from pipelines.normalise import normalise
        from pipelines.validate import missing_fields

        url = stored["url"]
        if not stored.get("page_file"):
            report.no_page += 1
            return None
        try:
            page = self.reader.read(stored["page_file"], stored["page_offset"])
        except (OSError, ValueError) as error:
            report.failed += 1
            logger.warning("reparse %s: kept page unreadable: %s", url, str(error).splitlines()[0][:200])
            return None
        try:
            family = self._family(stored["site"], stored["family"] or "generic")
            item = family.parse_article(
                parse_page(page.text()),
                url,
                fetched_at=stored["page_fetched_at"],
                site=stored["site"],
                hints=decode_hints(stored["page_hints"]) or None,
            )
        except (NotAnArticle, ParseError) as error:
            report.failed += 1
            logger.warning("reparse %s: the parser refuses the kept page now: %s", url, str(error)[:200])
            return None
        except Exception as error:  # a parser bug on one page: counted, the stored article stays as it is
            report.failed += 1
            logger.error("reparse %s: parser error: %s: %s", url, type(error).__name__, str(error)[:200])
            return None
        item = normalise(item)
        missing = missing_fields(item)
        if missing:  # the crawl would drop it: the stored article is kept as it was
            report.failed += 1
            logger.warning("reparse %s: the new parse misses %s: stored article kept", url, ", ".join(missing))
            return None
        item.url = url  # the stored canonical URL stays the article's key
        # categories are added, never removed: one kept page cannot show those the article's other URLs gave
        item.categories = list(dict.fromkeys([*(stored.get("categories") or []), *item.categories]))
        return item

    def _family(self, host: str, name: str):
        """The family as the crawl configured it: registry options, then the learned profile's facts."""
        key = (host, name)
        if key not in self._families:
            from crawler.families import get_family
            from pipelines.profiles import ProfileStore

            portal = self.portals.get(host)
            family = get_family(name, dict(portal.options) if portal else None)
            profile = ProfileStore(self.engine).load(host)
            if profile is not None and profile.family == name:
                family.apply_facts(profile.facts)
            self._families[key] = family
        return self._families[key]


def _stored_rows(engine: Engine, ids: Iterable[int]) -> list[dict[str, Any]]:
    """Stored articles with their site, kept page, images and attachments, as plain dicts."""
    ids = list(ids)
    A, S, P = m.Article.__table__, m.Site.__table__, m.ArticlePage.__table__
    IMG, D = m.Image.__table__, m.Attachment.__table__
    query = (
        select(
            A,
            S.c.host.label("site"),
            P.c.file.label("page_file"),
            P.c.offset.label("page_offset"),
            P.c.fetched_at.label("page_fetched_at"),
            P.c.hints.label("page_hints"),
        )
        .join(S, S.c.id == A.c.site_id)
        .outerjoin(P, P.c.article_id == A.c.id)
        .where(A.c.id.in_(ids))
        .order_by(P.c.file, P.c.offset)  # sequential reads of each file
    )
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
        captions: dict[int, list] = {}
        for row in connection.execute(
            select(IMG.c.article_id, IMG.c.image_url, IMG.c.caption)
            .where(IMG.c.article_id.in_(ids))
            .order_by(IMG.c.position)
        ):
            captions.setdefault(row.article_id, []).append({"image_url": row.image_url, "caption": row.caption})
        attachments: dict[int, list] = {}
        for row in connection.execute(
            select(D.c.article_id, D.c.url).where(D.c.article_id.in_(ids)).order_by(D.c.position)
        ):
            attachments.setdefault(row.article_id, []).append(row.url)
    for row in rows:
        row["captions"] = captions.get(row["id"], [])
        row["attachments"] = attachments.get(row["id"], [])
    return rows
