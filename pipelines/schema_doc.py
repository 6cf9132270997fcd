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
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
