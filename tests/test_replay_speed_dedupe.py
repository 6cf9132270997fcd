"""MinHash of a set hashed with one encode for the whole set (issue 12): still datasketch's, bit for bit,
also for sets of strings no body yields (newlines, lone characters, many shingles)."""

from __future__ import annotations

import pytest

from pipelines import dedupe

datasketch = pytest.importorskip("datasketch")


def _reference(values: set[str]):
    minhash = datasketch.MinHash(num_perm=dedupe.NUM_PERM, seed=1, scheme="affine32")
    for value in values:
        minhash.update(value.encode("utf-8"))
    return minhash.hashvalues.tolist()


@pytest.mark.parametrize(
    "values",
    [
        {"a b c"},
        {"xin chào bạn", "chào bạn nhé", "bạn nhé anh"},
        {"line\nbreak", "other", "tail\n"},  # newlines: hashed one by one
        {"\n", ""},
        {f"âm tiết {i} thứ" for i in range(10_000)},  # more than one chunk
    ],
    ids=["one", "vietnamese", "newlines", "blank", "many"],
)
def test_minhash_values_equal_datasketch(values):
    assert dedupe.minhash_values(values).tolist() == _reference(values)
