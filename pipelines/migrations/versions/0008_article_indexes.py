"""articles: indexes on published (newest first over every portal) and duplicate_of_id (an original's copies)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:00:00

``govnews serve`` lists articles newest first across all portals and shows an article's syndicated
copies; without these, each is a scan of the whole table (bench/serve_speed.py at 100,000 articles).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_index("ix_articles_duplicate_of_id", "articles", ["duplicate_of_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_duplicate_of_id", table_name="articles")
    op.drop_index("ix_articles_published", table_name="articles")
