"""article search: a diacritic-insensitive full-text index (FTS5 on SQLite, tsvector + GIN on PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:00:00

The index is built by pipelines.search (not declared in the models: an FTS5 virtual table, a
PostgreSQL-only column) and backfilled here from the stored articles.
"""

from __future__ import annotations

from alembic import op

from pipelines import search

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    search.create_index(op.get_bind(), backfill=True)


def downgrade() -> None:
    search.drop_index(op.get_bind())
