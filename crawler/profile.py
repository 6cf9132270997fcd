"""The site profile: what govnews has learned of one portal's shape.

Detection names the family; discovery learns the rest from what the site
declares: its modules and languages (NukeViet), permalink structure and
taxonomy bases (WordPress), the feeds and sitemaps it publishes, and the URL
shapes of its articles and listings. The profile is one explicit object:
``govnews detect`` prints it, the spider crawls from it, and the store keeps it
per portal so the next run starts where this one ended. Registry ``options`` and
``seeds`` only start discovery; what the site itself shows wins.

The *shape* of a profile (the family and its facts: modules, languages, URL mode,
permalink structure, taxonomy bases) has a fingerprint: when a later crawl learns a
different shape (a new theme, rewritten URLs, another platform) the change is
logged and the new profile replaces the old one. URL shapes are not part of it: a
site shows new ones as it grows (a first article in a sub-category) without changing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawler.shapes import ShapeBook

PROFILE_VERSION = 1
MAX_LISTED = 200  # feeds / sitemaps kept in a profile


@dataclass
class SiteProfile:
    host: str
    family: str
    base_url: str
    facts: dict[str, Any] = field(default_factory=dict)
    """Family-specific shape: NukeViet modules/languages/URL mode, WordPress permalinks ..."""
    feeds: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    shapes: ShapeBook = field(default_factory=ShapeBook)
    evidence: list[str] = field(default_factory=list)
    """Why the family was chosen (detection signals)."""
    label: str | None = None
    """The platform's name for the article URL shapes (a WordPress permalink structure), for people."""
    learned_at: datetime | None = None

    # -- identity of the shape -----------------------------------------------------
    def shape_summary(self) -> dict[str, Any]:
        """What a change of site shape would change (not counts, feeds or URL shapes)."""
        return {"family": self.family, "facts": _stable(self.facts)}

    def fingerprint(self) -> str:
        blob = json.dumps(self.shape_summary(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]

    def changes_from(self, older: SiteProfile) -> list[str]:
        """Human-readable differences of shape (empty when the site kept its shape)."""
        changes: list[str] = []
        if older.family != self.family:
            changes.append(f"family {older.family} -> {self.family}")
        old_facts, new_facts = _stable(older.facts), _stable(self.facts)
        for key in sorted(set(old_facts) | set(new_facts)):
            if old_facts.get(key) != new_facts.get(key):
                changes.append(f"{key}: {_short(old_facts.get(key))} -> {_short(new_facts.get(key))}")
        old_articles, new_articles = set(older.shapes.article_shapes()), set(self.shapes.article_shapes())
        if new_articles - old_articles:
            changes.append(f"new article URL shapes {sorted(new_articles - old_articles)[:5]}")
        return changes

    # -- (de)serialisation --------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "host": self.host,
            "family": self.family,
            "base_url": self.base_url,
            "facts": self.facts,
            "feeds": self.feeds[:MAX_LISTED],
            "sitemaps": self.sitemaps[:MAX_LISTED],
            "article_shapes": self.shapes.article_shapes(),
            "article_urls": self.label,
            "shapes": self.shapes.as_dict(),
            "evidence": self.evidence,
            "learned_at": self.learned_at.isoformat() if self.learned_at else None,
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteProfile | None:
        """A stored profile, or ``None`` when it is unreadable or of an older format."""
        if not isinstance(data, dict) or data.get("version") != PROFILE_VERSION:
            return None
        try:
            learned = data.get("learned_at")
            return cls(
                host=str(data["host"]),
                family=str(data["family"]),
                base_url=str(data["base_url"]),
                facts=dict(data.get("facts") or {}),
                feeds=[str(u) for u in data.get("feeds") or []][:MAX_LISTED],
                sitemaps=[str(u) for u in data.get("sitemaps") or []][:MAX_LISTED],
                shapes=ShapeBook.from_dict(data.get("shapes")),
                evidence=[str(e) for e in data.get("evidence") or []],
                label=data.get("article_urls") if isinstance(data.get("article_urls"), str) else None,
                learned_at=datetime.fromisoformat(learned) if learned else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def stamp(self) -> None:
        self.learned_at = datetime.now(UTC)


def _stable(value: Any) -> Any:
    """Facts in a canonical form: lists sorted where order carries no meaning."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple, set)):
        items = [_stable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."
