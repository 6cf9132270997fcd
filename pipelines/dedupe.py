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
    return {" ".join(syllables[i : i + SHINGLE]) for i in range(len(syllables) - SHINGLE + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=1)
def _permutations():
    """The seeded permutations, drawn once (datasketch draws them anew for every MinHash otherwise)."""
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME).permutations


SCHEME = "affine32"  # datasketch's default hashing scheme, named so stored bands stay comparable


def band_hashes(shingle_set: set[str]) -> list[int]:
    """One signed 64-bit hash per LSH band of the set's MinHash (fits SQL BIGINT)."""
    from datasketch import MinHash

    # same seed, same permutations, same scheme: bands comparable across runs and processes
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME, permutations=_permutations())
    minhash.update_batch([s.encode("utf-8") for s in shingle_set])
    values = minhash.hashvalues
    out = []
    for band in range(BANDS):
        chunk = values[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(struct.pack(f">H{ROWS}Q", band, *map(int, chunk)), digest_size=8).digest()
        out.append(struct.unpack(">q", digest)[0])
    return out
