"""Site profiles in SQL: the next crawl of a portal starts from what the last one learned.

One row per portal (``site_profiles``). Saving compares fingerprints: the same
shape only refreshes ``learned_at``; a different shape is a *change of the site*
(a new theme, rewritten URLs, another platform), kept with the profile it replaced
and reported to the caller so the crawl can log it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crawler.profile import SiteProfile
from pipelines import models as m
from pipelines.db import init_db, make_engine

logger = logging.getLogger(__name__)


class ProfileStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, db_url: str | None) -> ProfileStore:
        engine = make_engine(db_url)
        init_db(engine)
        return cls(engine)

    def load(self, site: str) -> SiteProfile | None:
        with Session(self.engine) as session:
            row = session.get(m.SiteProfileRow, site)
            if row is None:
                return None
            profile = SiteProfile.from_dict(row.profile)
            if profile is None:
                logger.info("stored profile of %s is of an older format: learning it again", site)
            return profile

    def save(self, profile: SiteProfile) -> list[str]:
        """Store ``profile``; the changes of shape from the stored one (empty: same shape or first)."""
        now = datetime.now(UTC)
        data = profile.as_dict()
        fingerprint = profile.fingerprint()
        with Session(self.engine) as session, session.begin():
            row = session.get(m.SiteProfileRow, profile.host, with_for_update=True)
            if row is None:
                session.add(
                    m.SiteProfileRow(
                        site=profile.host,
                        family=profile.family,
                        fingerprint=fingerprint,
                        profile=data,
                        learned_at=now,
                        changed_at=now,
                        previous=None,
                    )
                )
                return []
            changes: list[str] = []
            if row.fingerprint != fingerprint:
                older = SiteProfile.from_dict(row.profile)
                changes = profile.changes_from(older) if older is not None else ["stored profile unreadable"]
                changes = changes or ["URL shapes re-learned"]
                row.previous = row.profile
                row.changed_at = now
            row.family = profile.family
            row.fingerprint = fingerprint
            row.profile = data
            row.learned_at = now
            return changes

    def all(self) -> list[SiteProfile]:
        with Session(self.engine) as session:
            rows = session.scalars(select(m.SiteProfileRow).order_by(m.SiteProfileRow.site)).all()
            return [p for p in (SiteProfile.from_dict(r.profile) for r in rows) if p is not None]
