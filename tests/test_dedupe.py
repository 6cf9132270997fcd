"""pipelines.dedupe computes MinHash bands without datasketch objects: bit for bit what datasketch gives,
so bands stored by earlier versions stay comparable with new ones."""

from __future__ import annotations

import hashlib
import random
import struct

import pytest

from pipelines import dedupe

datasketch = pytest.importorskip("datasketch")


def _reference_bands(shingle_set: set[str]) -> list[int]:
    """The bands as govnews computed them with datasketch's MinHash (its affine32 scheme, SHA-1 hash)."""
    minhash = datasketch.MinHash(num_perm=dedupe.NUM_PERM, seed=1, scheme="affine32")
    minhash.update_batch([s.encode("utf-8") for s in shingle_set])
    out = []
    for band in range(dedupe.BANDS):
        chunk = minhash.hashvalues[band * dedupe.ROWS : (band + 1) * dedupe.ROWS]
        digest = hashlib.blake2b(struct.pack(f">H{dedupe.ROWS}Q", band, *map(int, chunk)), digest_size=8).digest()
        out.append(struct.unpack(">q", digest)[0])
    return out


def _reference_shingles(text: str) -> set[str]:
    import unicodedata

    text = dedupe._SOURCE_LINE.sub(" ", unicodedata.normalize("NFC", text or ""))
    syllables = dedupe._SYLLABLE.findall(text.casefold())
    if len(syllables) < dedupe.SHINGLE:
        return {" ".join(syllables)} if syllables else set()
    return {" ".join(syllables[i : i + dedupe.SHINGLE]) for i in range(len(syllables) - dedupe.SHINGLE + 1)}


def test_permutations_are_datasketchs():
    a, b = dedupe._permutations()
    reference = datasketch.MinHash(num_perm=dedupe.NUM_PERM, seed=1, scheme="affine32").permutations
    assert a.tolist() == reference[0].tolist()
    assert b.tolist() == reference[1].tolist()


WORDS = [
    "Ủy",
    "ban",
    "nhân",
    "dân",
    "tỉnh",
    "Nghệ",
    "An",
    "tổ",
    "chức",
    "hội",
    "nghị",
    "triển",
    "khai",
    "kế",
    "hoạch",
    "phát",
    "triển",
    "kinh",
    "tế",
    "xã",
    "hội",
]


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 40, 900, 9000])
def test_bands_and_shingles_equal_the_reference(length):
    rng = random.Random(length)
    for _ in range(3):
        words = [rng.choice(WORDS) + (str(rng.randrange(50)) if rng.random() < 0.3 else "") for _ in range(length)]
        text = " ".join(words) + "\nNguồn: Báo Nghệ An"
        shingles = dedupe.shingles(text)
        assert shingles == _reference_shingles(text)
        assert dedupe.cached_shingles(text) == shingles
        assert dedupe.band_hashes(shingles) == _reference_bands(shingles)
        assert dedupe.band_hashes(frozenset(shingles)) == _reference_bands(shingles)


def test_an_empty_body_has_the_empty_signature():
    assert dedupe.band_hashes(set()) == _reference_bands(set())
