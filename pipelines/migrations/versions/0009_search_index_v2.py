"""article search: the index rebuilt with the second fold (NFKC) and the positions PostgreSQL keeps

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:00:00

No table changes; the search index's content changes (pipelines.search):
* the fold is NFKC, not NFC: full-width letters and digits, ligatures and superscripts are indexed
  as the plain words a query folds them to;
* where PostgreSQL keeps no position (a word's 257th occurrence and later) SQLite holds a
  placeholder, so a phrase found on one backend is found on the other;
* an article's document stops where its PostgreSQL vector would pass 1 MB (which PostgreSQL
  refuses), on both backends.
So every stored article is indexed again (``bench/search_backfill.py``: the time of migration 0006).
The downgrade keeps the new index: the previous code reads it, and only queries of full-width text
fold differently there.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from pipelines import search

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # the GIN index off while every row is rewritten, then built once over all of them (faster);
        # the column and govnews_fold stay (views or indexes of one's own may use them)
        connection.execute(text(f"DROP INDEX IF EXISTS {search.PG_INDEX}"))
        search.fill(connection)
        connection.execute(text(f"CREATE INDEX {search.PG_INDEX} ON articles USING gin ({search.PG_COLUMN})"))
    else:
        # dropped and built again, not rewritten in place: FTS5 keeps a deleted row's entries until
        # its segments merge (the file grew by a tenth more)
        search.drop_index(connection)
        search.create_index(connection, backfill=True)


def downgrade() -> None:
    """Nothing to undo: the tables are as 0008 made them."""
