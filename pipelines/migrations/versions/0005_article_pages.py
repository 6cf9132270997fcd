"""kept article pages: where each article's last parsed page is (for govnews reparse)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipelines.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_pages",
        sa.Column("article_id", sa.Integer(), nullable=False, comment="The article."),
        sa.Column(
            "file",
            sa.String(length=1000),
            nullable=False,
            comment="WARC file holding the page: relative to the kept-pages directory, or absolute (a replayed archive).",
        ),
        sa.Column(
            "offset", sa.BigInteger(), nullable=False, comment="Byte offset of the page's response record in the file."
        ),
        sa.Column(
            "fetched_at", pipelines.models.UTCDateTime(), nullable=False, comment="When the page was fetched (UTC)."
        ),
        sa.Column(
            "hints",
            sa.JSON(),
            nullable=False,
            comment="What discovery told the parser beside the page (feed dates, author, ids; JSON).",
        ),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.PrimaryKeyConstraint("article_id"),
        comment="Where the page each article was last parsed from is kept (a WARC record), for govnews reparse.",
    )
    op.create_index(op.f("ix_article_pages_file"), "article_pages", ["file"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_article_pages_file"), table_name="article_pages")
    op.drop_table("article_pages")
