"""fleet: portal leases (node, job) and the node and job of each crawl run

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipelines.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_leases",
        sa.Column("site", sa.String(length=255), nullable=False, comment="Portal host."),
        sa.Column(
            "politeness_group",
            sa.String(length=255),
            nullable=False,
            comment="Politeness group: the fleet crawls one portal of a group at a time.",
        ),
        sa.Column("node", sa.String(length=255), nullable=True, comment="scrapyd node (host:port) the job was sent to."),
        sa.Column("job", sa.String(length=64), nullable=True, comment="scrapyd job id holding the portal."),
        sa.Column(
            "dispatched_at", pipelines.models.UTCDateTime(), nullable=True, comment="When the dispatcher sent the job (UTC)."
        ),
        sa.Column(
            "started_at", pipelines.models.UTCDateTime(), nullable=True, comment="When the crawl process took the lease (UTC)."
        ),
        sa.Column(
            "finished_at",
            pipelines.models.UTCDateTime(),
            nullable=True,
            comment="When the crawl process gave the lease back (UTC); empty while dispatched or running.",
        ),
        sa.Column("hostname", sa.String(length=255), nullable=True, comment="Machine of the crawl process."),
        sa.Column("pid", sa.Integer(), nullable=True, comment="Process id of the crawl process."),
        sa.Column("note", sa.String(length=500), nullable=True, comment="Why the lease ended without a crawl, if it did."),
        sa.PrimaryKeyConstraint("site"),
        comment="Which fleet job holds each portal (crawler.fleet): written by the dispatcher, taken and "
        "ended by the crawl process, which also holds a PostgreSQL advisory lock while it crawls.",
    )
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(
            sa.Column(
                "node", sa.String(length=255), nullable=True, comment="scrapyd node (host:port) whose job ran the crawl."
            )
        )
        batch.add_column(
            sa.Column(
                "job", sa.String(length=64), nullable=True, comment="scrapyd job id of the crawl (empty: not a fleet job)."
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("job")
        batch.drop_column("node")
    op.drop_table("portal_leases")
