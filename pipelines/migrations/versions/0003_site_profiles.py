"""site profiles: the learned shape of each portal

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipelines.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_profiles",
        sa.Column("site", sa.String(length=255), nullable=False, comment="Portal host."),
        sa.Column("family", sa.String(length=50), nullable=False, comment="CMS family detected or configured."),
        sa.Column(
            "fingerprint",
            sa.String(length=32),
            nullable=False,
            comment="Hash of the profile's shape (family, facts, URL shapes): changes = the site changed.",
        ),
        sa.Column(
            "profile",
            sa.JSON(),
            nullable=False,
            comment="The profile (JSON): family facts, feeds, sitemaps, URL shapes, evidence.",
        ),
        sa.Column(
            "learned_at",
            pipelines.models.UTCDateTime(),
            nullable=False,
            comment="When a crawl last confirmed the profile (UTC).",
        ),
        sa.Column(
            "changed_at",
            pipelines.models.UTCDateTime(),
            nullable=False,
            comment="When the profile's shape last changed (UTC).",
        ),
        sa.Column(
            "previous",
            sa.JSON(),
            nullable=True,
            comment="The profile it replaced at the last change of shape (JSON), for review.",
        ),
        sa.PrimaryKeyConstraint("site"),
        comment="What govnews learned of each portal's shape (crawler.profile.SiteProfile).",
    )


def downgrade() -> None:
    op.drop_table("site_profiles")
