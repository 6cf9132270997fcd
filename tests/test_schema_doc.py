"""docs/schema.md is generated from the models: every column documented, the file current."""

from __future__ import annotations

from conftest import ROOT

from pipelines.models import Base
from pipelines.schema_doc import render


def test_every_table_and_column_says_what_it_holds():
    for table in Base.metadata.sorted_tables:
        assert table.comment, f"table {table.name} needs a comment"
        for column in table.columns:
            assert column.comment, f"{table.name}.{column.name} needs a comment"


def test_docs_schema_is_current():
    assert (ROOT / "docs" / "schema.md").read_text(encoding="utf-8") == render(), (
        "run: python -m pipelines.schema_doc > docs/schema.md"
    )
