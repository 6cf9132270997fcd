"""Near-duplicate detection: MinHash over syllable shingles, LSH bands kept in SQL.

Provincial portals repost department news with a new title, a trimmed lead
and an added "Nguồn:" line. Each body becomes a set of 3-syllable shingles;
its MinHash (datasketch) is cut into LSH bands whose hashes live in the
``minhash_bands`` table, so finding candidates is an index lookup at any
database size. Candidates are then confirmed by the exact Jaccard similarity of
the shingle sets; ``SIMILARITY_THRESHOLD`` was chosen from measured pairs
(``bench/near_duplicates.py``).
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from functools import lru_cache

NUM_PERM = 128
BANDS, ROWS = 32, 4  # 32 x 4 = 128; candidates from Jaccard ~0.3 up (LSH S-curve), confirmed exactly
SHINGLE = 3  # syllables per shingle
# Jaccard: between the most similar *different* articles (0.59) and the least similar repost (0.70)
# measured by bench/near_duplicates.py on the dev corpora.
SIMILARITY_THRESHOLD = 0.65
_SYLLABLE = re.compile(r"\w+", re.UNICODE)
_SOURCE_LINE = re.compile(r"^\s*\(?\s*(?:Nguồn(?:\s+tin)?|Theo)\s*[:：].{0,200}$", re.IGNORECASE | re.MULTILINE)


def shingles(text: str) -> set[str]:
    """3-syllable shingles of the body, case- and accent-form-folded; "Nguồn:" lines do not count."""
    text = _SOURCE_LINE.sub(" ", unicodedata.normalize("NFC", text or ""))
    syllables = _SYLLABLE.findall(text.casefold())
    if len(syllables) < SHINGLE:
        return {" ".join(syllables)} if syllables else set()
    return {f"{a} {b} {c}" for a, b, c in zip(syllables, syllables[1:], syllables[2:], strict=False)}  # 3 = SHINGLE


@lru_cache(maxsize=256)
def cached_shingles(text: str) -> frozenset[str]:
    """:func:`shingles` of a body, remembered for the last bodies seen: the store shingles a body when
    it stores it and again when a later article names it as a near-duplicate candidate."""
    return frozenset(shingles(text))


def jaccard(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


SCHEME = "affine32"  # datasketch's default hashing scheme, named so stored bands stay comparable
_SEED = 1
_CHUNK = 4096  # shingles hashed against the 128 permutations at once (bounds the temporary array)


@lru_cache(maxsize=1)
def _permutations():
    """The seeded affine32 permutations ``(a, b)``, drawn once, exactly as datasketch 2 draws them
    for ``MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32")`` (a test compares the two)."""
    import numpy as np

    generator = np.random.RandomState(_SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def minhash_values(shingle_set: set[str] | frozenset[str]):
    """The set's MinHash signature (NUM_PERM uint32 values), bit for bit datasketch's affine32 MinHash
    with its default SHA-1 hash; computed with numpy in one pass, without a MinHash object per body."""
    import numpy as np

    a, b = _permutations()
    values = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if not shingle_set:
        return values
    sha1 = hashlib.sha1
    encoded = "\n".join(shingle_set).encode("utf-8").split(b"\n")  # one encode for the whole set
    if len(encoded) != len(shingle_set):  # a shingle holding a newline (not one of ours): one by one
        encoded = [s.encode("utf-8") for s in shingle_set]
    # each SHA-1's first 4 bytes, little-endian: every fifth uint32 of the 20-byte digests laid end to end
    hashes = np.frombuffer(b"".join([sha1(s).digest() for s in encoded]), dtype="<u4")[::5].astype(np.uint32)
    for start in range(0, len(hashes), _CHUNK):
        hv = hashes[start : start + _CHUNK].reshape(-1, 1)
        hv = hv ^ (hv >> np.uint32(16))  # MurmurHash3's finalizer, as datasketch pre-mixes every input
        hv = hv * np.uint32(0x85EBCA6B)
        hv = hv ^ (hv >> np.uint32(13))
        hv = hv * np.uint32(0xC2B2AE35)
        hv = hv ^ (hv >> np.uint32(16))
        values = np.minimum(values, (hv * a + b).min(axis=0))
    return values


_BAND = struct.Struct(f">H{ROWS}Q")


def band_hashes(shingle_set: set[str] | frozenset[str]) -> list[int]:
    """One signed 64-bit hash per LSH band of the set's MinHash (fits SQL BIGINT)."""
    # same seed, same permutations, same scheme: bands comparable across runs and processes
    values = minhash_values(shingle_set).tolist()
    blake2b, pack = hashlib.blake2b, _BAND.pack
    out = []
    for band in range(BANDS):
        digest = blake2b(pack(band, *values[band * ROWS : (band + 1) * ROWS]), digest_size=8).digest()
        out.append(int.from_bytes(digest, "big", signed=True))
    return out
