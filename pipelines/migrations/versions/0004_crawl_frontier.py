"""crawl frontier (resume) and the verdict, host and pid of each crawl run

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipelines.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_frontier",
        sa.Column("site", sa.String(length=255), nullable=False, comment="Portal host."),
        sa.Column("url", sa.String(length=2000), nullable=False, comment="Page to read."),
        sa.Column(
            "kind",
            sa.String(length=20),
            nullable=False,
            comment="listing, feed, sitemap, api, probe (a link of unknown kind) or article.",
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="Failed fetches so far (dropped after 3)."),
        sa.Column("added_at", pipelines.models.UTCDateTime(), nullable=False, comment="When a crawl found it (UTC)."),
        sa.PrimaryKeyConstraint("site", "url"),
        comment="What a portal's unfinished crawl still had to read: the next run resumes from it "
        "(cleared when a run finishes cleanly).",
    )
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(
            sa.Column(
                "outcome",
                sa.String(length=500),
                nullable=True,
                comment="The verdict the CLI printed: finished, or why the run is unfinished (resumable).",
            )
        )
        batch.add_column(
            sa.Column("hostname", sa.String(length=255), nullable=True, comment="Machine that ran the crawl.")
        )
        batch.add_column(
            sa.Column("pid", sa.Integer(), nullable=True, comment="Process id of the crawl (a dead one: interrupted).")
        )


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("hostname")
        batch.drop_column("outcome")
    op.drop_table("crawl_frontier")
