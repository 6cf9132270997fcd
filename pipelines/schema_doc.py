"""Write ``docs/schema.md`` from the models' table and column comments.

    python -m pipelines.schema_doc > docs/schema.md

A test keeps the document and the models in step.
"""

from __future__ import annotations

from pipelines.models import Base

HEADER = """# govnews database schema

Generated from `pipelines/models.py` by `python -m pipelines.schema_doc`; do not edit by hand.
Times are stored in UTC (timezone-naive columns holding UTC) and exported as ISO 8601 with the
portal's offset (+07:00). The schema is managed by Alembic: `govnews db upgrade` brings any older
database to the current revision. Consumers should read exports (`govnews export --since CURSOR`)
or these tables; the change cursor `articles.change_seq` rises on every insert or change.
"""


SEARCH_HEADER = """
## Search objects (migration 0006, `pipelines/search.py`)

Not models: each backend holds the full-text index its own way, built from the *same* folded tokens
(NFC, lower case, tone marks and diacritics removed, `đ` → `d`), so both find the same articles.

| object | backend | what it holds |
|---|---|---|
"""
SEARCH_OBJECTS = [
    (
        "`articles_fts`",
        "SQLite",
        "FTS5 table (`unicode61 remove_diacritics 2`), rowid = `articles.id`; columns `title`, `summary`, `body` "
        "holding the folded text. Kept in step by the store on every insert, edit and reparse.",
    ),
    (
        "`articles.search_vector`",
        "PostgreSQL",
        "`tsvector` of the folded tokens, weights A title, B summary, C body; GIN index `ix_articles_search_vector`.",
    ),
    (
        "`govnews_fold(text)`",
        "PostgreSQL",
        "IMMUTABLE SQL function over `unaccent` (where the owner may create it) plus `đ` → `d`: "
        "`search_vector @@ plainto_tsquery('simple', govnews_fold('Đảng bộ'))`.",
    ),
    (
        "`govnews_fold(text)`, `govnews_match(query[, scope])`, `govnews_snippet(query, summary, body)`",
        "SQLite",
        "Connection functions (`pipelines.search.register_sqlite_functions`, registered by `govnews serve`): "
        "`articles_fts MATCH govnews_match(:q)` finds what `govnews search` finds; `scope` `sequence`, `title` or "
        "`lead` gives its ranking tiers.",
    ),
]


def _search_section() -> str:
    return SEARCH_HEADER + "".join(f"| {name} | {backend} | {what} |\n" for name, backend, what in SEARCH_OBJECTS)


def render() -> str:
    lines = [HEADER]
    for table in Base.metadata.sorted_tables:
        lines.append(f"\n## `{table.name}`\n\n{table.comment or ''}\n")
        lines.append("| column | type | null | key | what it holds |")
        lines.append("|---|---|---|---|---|")
        for column in table.columns:
            key = "PK" if column.primary_key else ""
            if column.foreign_keys:
                key = (key + " " if key else "") + "→ " + ", ".join(fk.target_fullname for fk in column.foreign_keys)
            if column.unique:
                key = (key + " " if key else "") + "unique"
            kind = type(column.type).__name__
            kind = "DateTime (UTC)" if kind == "UTCDateTime" else kind
            lines.append(
                f"| `{column.name}` | {kind} | {'yes' if column.nullable else 'no'} | {key} | {column.comment or ''} |"
            )
        indexes = sorted(index.name for index in table.indexes)
        if indexes:
            lines.append(f"\nIndexes: {', '.join(f'`{name}`' for name in indexes)}.")
    return "\n".join(lines) + "\n" + _search_section()


if __name__ == "__main__":
    print(render(), end="")
