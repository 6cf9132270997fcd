"""Vietnamese full-text search that ignores tone marks and diacritics, the same on SQLite and PostgreSQL.

People type without diacritics: "quyet dinh bo nhiem" must find "Quyết định bổ nhiệm" and "dang bo"
must find "Đảng bộ" (``đ`` is a letter of its own, not a diacritic: Unicode does not decompose it,
so SQLite's ``remove_diacritics`` and a plain NFD strip both leave it alone). One function,
:func:`fold`, folds the indexed text and every query, so both always agree:
NFKC, case folded, tone marks and other diacritics removed, ``đ`` -> ``d``.

Both backends index the *same Python tokens* of the folded text, so they find the same articles:

* SQLite: an FTS5 table ``articles_fts`` (rowid = ``articles.id``; columns title, summary, body;
  ``unicode61 remove_diacritics 2``) holding the folded tokens. A regular FTS5 table, not a
  contentless one: SQLite 3.40 has no ``contentless_delete``, and a contentless delete must repeat the
  exact indexed text, so a stale or differently folded copy would corrupt the index silently; this
  one is kept in step by rowid. It costs one folded copy of the text (``bench/search_backfill.py``).
* PostgreSQL: a ``tsvector`` column ``articles.search_vector`` (weights A title, B summary, C body)
  with a GIN index, written by the store from the same tokens. ``unaccent`` is not IMMUTABLE, so it
  cannot build a generated column or an expression index; and PostgreSQL's parser splits text by its
  own rules (``covid-19``, hosts, numbers) and by the server's locale. Folding and tokenising in
  Python makes the two backends identical by construction. Migration 0006 still creates the
  ``unaccent`` extension where the database owner may (trusted on PostgreSQL 13+) and an IMMUTABLE
  SQL function ``govnews_fold(text)`` over it, for people who query in SQL
  (``search_vector @@ plainto_tsquery('simple', govnews_fold('Đảng bộ'))``).

Ranking: title > summary > body, in tiers the two backends compute alike: the query's words in
sequence in the title (the shortest such title first), then all of them in the title (shortest
first), then in title and lead, then anywhere; within a tier FTS5 ``bm25`` with column weights or
``ts_rank`` with weights A/B/C, then the newest. bm25 and ts_rank are different formulas (ts_rank
rewards words near each other, not words in the title), so the tiers, not the scores, carry the
promise "a query that is an article's title finds that article first" on both. Removed
articles (a crawl found them 404/410) stay in the index, as they stay in the database; searches
leave them out unless asked (``include_removed``), as exports do.

Query syntax: words (all must occur), ``"a phrase"``, a trailing ``*`` for a prefix. Everything
else is a separator: no user input can reach FTS5 or tsquery as syntax.

Other SQLite readers (Datasette's search box): :func:`register_sqlite_functions` gives a connection
``govnews_fold(text)`` and ``govnews_match(query)`` (the FTS5 expression of a query, folded as
here), so ``articles_fts MATCH govnews_match(:q)`` finds what ``govnews search`` finds.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, bindparam, text
from sqlalchemy.engine import Connection, Engine

FTS_TABLE = "articles_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_articles_search_vector"
PG_FOLD_FUNCTION = "govnews_fold"

# What is indexed of an article, the same on both backends: PostgreSQL keeps at most 16,383 positions
# per document and 256 per lexeme, and refuses lexemes over 2,047 bytes.
MAX_TITLE_TOKENS, MAX_SUMMARY_TOKENS, MAX_BODY_TOKENS = 300, 1_000, 15_000
MAX_TOKEN_CHARS = 100
MAX_POSITIONS_PER_LEXEME = 256
MAX_QUERY_TERMS = 64
# words over all terms: a phrase is one term, and a pasted page as one phrase made PostgreSQL give up
# ("stack depth" / StatementTooComplex) where SQLite found nothing
MAX_QUERY_WORDS = 256
# bm25() weights of the FTS5 columns and ts_rank's {D, C, B, A} weights: a title hit counts most
FTS_WEIGHTS = (10.0, 4.0, 1.0)
PG_WEIGHTS = "{0.0, 0.1, 0.4, 1.0}"

_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: unicode61's token characters (L*, N*)
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+")  # a word of the original text, marks included


def _fold_table() -> dict[int, str | None]:
    """Latin letters with diacritics -> their base letter, combining marks -> nothing, đ/Đ -> d."""
    table: dict[int, str | None] = {code: None for code in range(0x0300, 0x0370)}
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        base = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
        if base != chr(code):
            table[code] = base.lower()
    table.update({0x0110: "d", 0x0111: "d", 0x00D0: "d", 0x00F0: "d", 0x0189: "d", 0x0256: "d"})
    return table


_FOLD = _fold_table()


def fold(value: str | None) -> str:
    """The search form of a text: NFKC, case folded, no tone marks or diacritics, ``đ`` -> ``d``.
    Index and query go through this one function on every backend. NFKC, not NFC: full-width
    letters and digits (``ＵＢＮＤ``, typed by East Asian input methods), ligatures (``ﬁ``) and
    superscripts are the same word as their plain forms; Vietnamese letters compose as in NFC.
    ``casefold``, not ``lower``: FTS5's tokenizer folds further than ``lower`` (Greek final ς to σ),
    which PostgreSQL, given the tokens as they are, would not; folded first, both hold the same."""
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", value).casefold().translate(_FOLD)
    if not folded.isascii():  # a letter outside the table (Greek, Cyrillic...): strip its marks too
        folded = unicodedata.normalize(
            "NFKC", "".join(c for c in unicodedata.normalize("NFD", folded) if not unicodedata.combining(c))
        )
    return folded


def tokens(value: str | None) -> list[str]:
    """The folded words of a text, as both indexes hold them."""
    return [word for word in _TOKEN.findall(fold(value)) if len(word) <= MAX_TOKEN_CHARS]


# A position whose word is not indexed (its lexeme's 257th occurrence and later): a private-use
# character, a token character to FTS5's unicode61 but never to :data:`_TOKEN`, so no query word
# (nor any prefix) can match it. It keeps the later words at the positions PostgreSQL gives them.
_SKIPPED = "\ue000"
# PostgreSQL refuses a tsvector over 1 MB (lexemes and positions); the document stops before.
MAX_VECTOR_BYTES = 1_000_000


def _document(
    title: str | None, summary: str | None, body: str | None
) -> tuple[list[str | None], list[str | None], list[str | None]]:
    """What both indexes hold of an article, position by position: the words of title, summary and
    body; ``None`` where PostgreSQL keeps no position (past 256 occurrences of one word), so phrase
    matches agree; and nothing after the point where the PostgreSQL vector would pass 1 MB (a body
    of a million distinct "words" must not fail its whole batch), on SQLite too."""
    columns = (tokens(title)[:MAX_TITLE_TOKENS], tokens(summary)[:MAX_SUMMARY_TOKENS], tokens(body)[:MAX_BODY_TOKENS])
    counts: dict[str, int] = {}
    budget = MAX_VECTOR_BYTES
    document: tuple[list[str | None], ...] = ([], [], [])
    for words, kept in zip(columns, document, strict=True):
        for word in words:
            seen = counts.get(word, 0)
            if seen >= MAX_POSITIONS_PER_LEXEME:
                kept.append(None)
                continue
            # a new lexeme: its entry (4 bytes), its text, alignment and position count; then 2 per position
            cost = 2 if seen else 9 + len(word.encode())
            if cost > budget:
                return document  # type: ignore[return-value]
            budget -= cost
            counts[word] = seen + 1
            kept.append(word)
    return document  # type: ignore[return-value]


def tsvector_literal(title: str | None, summary: str | None, body: str | None) -> str:
    """The PostgreSQL ``tsvector`` of an article, written out: the tokens SQLite indexes, title A,
    summary B, body C, one empty position between columns (a phrase never runs from the title into
    the lead, as in FTS5)."""
    positions: dict[str, list[str]] = {}
    position = 0
    for words, weight in zip(_document(title, summary, body), "ABC", strict=True):
        for word in words:
            position += 1
            if word is not None:
                positions.setdefault(word, []).append(f"{position}{weight}")
        position += 1
    return " ".join(f"'{word}':{','.join(where)}" for word, where in positions.items())


def fts_text(words: list[str | None]) -> str:
    """One FTS5 column of :func:`_document`: the words, and the placeholder where PostgreSQL keeps none."""
    return " ".join(_SKIPPED if word is None else word for word in words)


# -- queries ----------------------------------------------------------------------------------------
class SearchQueryError(ValueError):
    """A query with nothing to search for (or too much): the CLI prints it as a usage error."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase of adjacent words; ``prefix``: its last word may continue."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts5(self) -> str:
        # the words are letters and digits only (see tokens): inside "…" nothing is FTS5 syntax
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")

    def tsquery(self, weights: str = "") -> str:
        lexemes = [f"'{word}'" + (":" + weights if weights else "") for word in self.words]
        if self.prefix:
            lexemes[-1] = lexemes[-1].replace(":", ":*", 1) if weights else lexemes[-1] + ":*"
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: every term must occur (in any column)."""

    terms: tuple[Term, ...]

    def fts5(self, columns: str = "") -> str:
        """The FTS5 MATCH expression: quoted strings only, so never a syntax error. ``columns``
        (``title``, ``title summary``): every term must occur in those."""
        expression = " ".join(term.fts5() for term in self.terms)
        return f"{{{columns}}} : ({expression})" if columns else expression

    def tsquery(self, weights: str = "") -> str:
        """The ``tsquery`` text (cast, not parsed: PostgreSQL's parser would split words its own way).
        ``weights`` (``A``, ``AB``): every term must occur in the columns of those weights."""
        return " & ".join(term.tsquery(weights) for term in self.terms)

    def sequence(self) -> Query:
        """All the words as one phrase, in the order typed: "dang bo" as the title's "Đảng bộ" ranks
        above a title with "Đảng ủy ... Chi bộ"."""
        words = tuple(word for term in self.terms for word in term.words)
        return Query((Term(words, prefix=self.terms[-1].prefix),))

    def matches(self, word: str) -> bool:
        """Whether a folded word of the text is one the query asks for (for snippets)."""
        for term in self.terms:
            for i, wanted in enumerate(term.words):
                last = i == len(term.words) - 1
                if word == wanted or (last and term.prefix and word.startswith(wanted)):
                    return True
        return False


def _query_words(chunk: str) -> list[str]:
    """The folded words of a piece of a query; a word the index cannot hold is an error, not dropped
    (dropped, the search would quietly ask for less than was typed)."""
    words = _TOKEN.findall(fold(chunk))
    for word in words:
        if len(word) > MAX_TOKEN_CHARS:
            shown = word[:20] + "..."
            raise SearchQueryError(
                f"a word of {len(word)} letters ({shown}): words over {MAX_TOKEN_CHARS} letters are not indexed"
            )
    return words


def parse_query(value: str) -> Query:
    """Words, ``"quoted phrases"`` (an unclosed quote runs to the end) and ``word*`` prefixes, folded
    like the index. A word joined by punctuation (``covid-19``, ``QĐ-UBND``) is a phrase, as the
    index holds its parts side by side. Anything else (``AND``, ``(``, ``NEAR``, ``:``) is text."""
    terms: list[Term] = []
    for i, part in enumerate(value.split('"')):
        chunks = [part] if i % 2 else part.split()
        for chunk in chunks:
            words = tuple(_query_words(chunk))
            if not words:
                continue
            term = Term(words, prefix=chunk.rstrip().endswith("*"))
            if term not in terms:
                terms.append(term)
    if not terms:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise SearchQueryError(f"nothing to search for in {shown!r}: give words (letters or digits)")
    if len(terms) > MAX_QUERY_TERMS:
        raise SearchQueryError(f"too many words in the query ({len(terms)}; at most {MAX_QUERY_TERMS})")
    words = sum(len(term.words) for term in terms)
    if words > MAX_QUERY_WORDS:
        raise SearchQueryError(f"too many words in the query ({words}; at most {MAX_QUERY_WORDS} in all its phrases)")
    return Query(tuple(terms))


_SCOPES = {"": "", "sequence": "title", "title": "title", "lead": "title summary"}


def match_expression(value: str | None, scope: str = "") -> str:
    """The FTS5 MATCH expression of a user's query; one that matches nothing when it has no words
    (an SQL function must not raise on what a search box sends). ``scope``: the ranking tiers of
    :func:`search` -- ``sequence`` (the words in order in the title), ``title``, ``lead`` (title or
    summary), or everything."""
    try:
        query = parse_query(value or "")
    except SearchQueryError:
        return '""'
    if scope == "sequence":
        query = query.sequence()
    return query.fts5(_SCOPES.get(scope, ""))


def _snippet(value: str | None, summary: str | None, body: str | None) -> str:
    try:
        query = parse_query(value or "")
    except SearchQueryError:
        return ""
    return snippet(query, summary, body, marks=("[", "]"))


def register_sqlite_functions(dbapi_connection) -> None:
    """``govnews_fold(text)``, ``govnews_match(query[, scope])`` and ``govnews_snippet(query, summary,
    body)`` (the words found, in the original text, in [brackets]) on an sqlite3 connection."""
    dbapi_connection.create_function("govnews_fold", 1, fold, deterministic=True)
    dbapi_connection.create_function("govnews_match", 1, match_expression, deterministic=True)
    dbapi_connection.create_function("govnews_match", 2, match_expression, deterministic=True)
    dbapi_connection.create_function("govnews_snippet", 3, _snippet, deterministic=True)


# -- the index: created, backfilled, kept in step ------------------------------------------------
def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic filter (before reflection): the FTS5 table and its shadow tables are not models."""
    return not (type_ == "table" and name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")))


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic filter: the search index is built by this module, not declared in the models (an FTS5
    virtual table, a PostgreSQL-only column and GIN index); everything else is compared."""
    if type_ == "table":
        return include_name(name, type_, {})
    if type_ == "column" and name == PG_COLUMN and getattr(obj, "table", None) is not None:
        return obj.table.name != "articles"
    return not (type_ == "index" and name == PG_INDEX)


def create_index(connection: Connection, *, backfill: bool = True) -> int:
    """Create the search index for the connection's backend; fill it from the stored articles
    (``backfill``). Returns how many articles were indexed."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE articles ADD COLUMN search_vector tsvector"))
        count = fill(connection) if backfill else 0
        # the GIN index after the backfill: built once from all rows, faster than row by row
        connection.execute(text("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)"))
        create_fold_function(connection)
        return count
    connection.execute(
        text(
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            "title, summary, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    )
    return fill(connection) if backfill else 0


def drop_index(connection: Connection) -> None:
    """Undo :func:`create_index` (migration 0006's downgrade)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS govnews_fold(text)"))
        connection.execute(text("DROP INDEX IF EXISTS ix_articles_search_vector"))
        connection.execute(text("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector"))
    else:
        connection.execute(text("DROP TABLE IF EXISTS articles_fts"))


_PG_FOLD_SQL = (
    "CREATE OR REPLACE FUNCTION govnews_fold(value text) RETURNS text"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
    " AS $$ SELECT lower(SCHEMA.unaccent('SCHEMA.unaccent'::regdictionary, value)) $$"
)


def create_fold_function(connection: Connection) -> bool:
    """On PostgreSQL, ``govnews_fold(text)``: the fold in SQL (``unaccent``, lower case), IMMUTABLE
    so it may serve in indexes of one's own. False (and nothing created) when the ``unaccent``
    extension is not installed on the server or the role may not create it: govnews's own index and
    queries never need it (they fold in Python)."""
    savepoint = connection.begin_nested()  # a refused CREATE EXTENSION must not abort the migration
    try:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        schema = connection.scalar(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'unaccent'"
            )
        )
        # unaccent with a fixed dictionary is stable in practice: the two-argument form may be IMMUTABLE
        quoted = connection.dialect.identifier_preparer.quote(schema)
        connection.execute(text(_PG_FOLD_SQL.replace("SCHEMA", quoted)))
    except Exception:  # noqa: BLE001 - any refusal (no extension files, no privilege) only skips the helper
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


# SQL as constants (the names are pipelines.search's own: FTS_TABLE, PG_COLUMN, PG_INDEX)
# one statement for a whole batch: the ids and vectors as two arrays, joined back by unnest
_PG_UPDATE = text(
    "UPDATE articles AS a SET search_vector = CAST(v.vector AS tsvector)"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:vectors AS text[])) AS v(id, vector) WHERE a.id = v.id"
)
_FTS_DELETE = text("DELETE FROM articles_fts WHERE rowid = :id")
_FTS_INSERT = text("INSERT INTO articles_fts (rowid, title, summary, body) VALUES (:id, :title, :summary, :body)")
_SELECT_TEXTS = text("SELECT id, title, summary, body_text FROM articles WHERE id > :after ORDER BY id LIMIT :n")


def fill(connection: Connection, chunk: int = 1_000) -> int:
    """Index every stored article (the migration's backfill), a chunk of rows at a time."""
    after, count = 0, 0
    while True:
        rows = connection.execute(_SELECT_TEXTS, {"after": after, "n": chunk}).all()
        if not rows:
            return count
        index_articles(connection, rows, fresh=True)
        after, count = rows[-1][0], count + len(rows)


def index_articles(connection: Connection, rows: Iterable[Sequence], *, fresh: bool = False) -> None:
    """(Re)index articles: ``rows`` of (id, title, summary, body text) as now stored. One executemany
    per statement for the whole batch. ``fresh``: none of them is in the index yet."""
    rows = list(rows)
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            _PG_UPDATE,
            {"ids": [row[0] for row in rows], "vectors": [tsvector_literal(row[1], row[2], row[3]) for row in rows]},
        )
        return
    if not fresh:
        connection.execute(_FTS_DELETE, [{"id": row[0]} for row in rows])
    documents = []
    for row in rows:
        title, summary, body = _document(row[1], row[2], row[3])
        documents.append({"id": row[0], "title": fts_text(title), "summary": fts_text(summary), "body": fts_text(body)})
    connection.execute(_FTS_INSERT, documents)


# -- searching --------------------------------------------------------------------------------------
@dataclass(slots=True)
class Hit:
    """One article found, best first; ``snippet`` marks the words the query matched."""

    id: int
    url: str
    site: str
    published: datetime | None
    title: str
    summary: str | None
    snippet: str
    score: float
    removed_at: datetime | None


_COLUMNS = {
    "id": Integer,
    "url": String,
    "site": String,
    "published": String,  # read by _moment: a hand-edited "yesterday" must not end the search
    "title": Text,
    "summary": Text,
    "body_text": Text,
    "tier": Integer,
    "rank": Float,
    "removed_at": String,
}
# Filters are parameters (NULL: not filtered), so each backend has one statement, built once.
_SEARCH_SQL = {
    "postgresql": """
        SELECT a.id, a.url, s.host AS site, a.published, a.title, a.summary, a.body_text, a.removed_at,
               CASE WHEN a.search_vector @@ q.sequence THEN 4 WHEN a.search_vector @@ q.title THEN 3
                    WHEN a.search_vector @@ q.lead THEN 2 ELSE 1 END AS tier,
               ts_rank(CAST(:weights AS real[]), a.search_vector, q.q, 1) AS rank
        FROM articles a JOIN sites s ON s.id = a.site_id,
             (SELECT CAST(:q AS tsquery) AS q, CAST(:q_sequence AS tsquery) AS sequence,
                     CAST(:q_title AS tsquery) AS title, CAST(:q_lead AS tsquery) AS lead) q
        WHERE a.search_vector @@ q.q
          AND (:include_removed OR a.removed_at IS NULL)
          AND (CAST(:site AS VARCHAR) IS NULL OR s.host = :site)
          AND (CAST(:since AS TIMESTAMP) IS NULL OR a.published >= :since)
        ORDER BY tier DESC, CASE WHEN a.search_vector @@ q.title THEN length(a.title) ELSE 0 END, rank DESC,
                 a.published DESC NULLS LAST, a.id
        LIMIT :limit""",
    "sqlite": """
        SELECT a.id, a.url, s.host AS site, a.published, a.title, a.summary, a.body_text, a.removed_at,
               CASE WHEN a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q_sequence) THEN 4
                    WHEN a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q_title) THEN 3
                    WHEN a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q_lead) THEN 2
                    ELSE 1 END AS tier,
               -bm25(articles_fts, :w_title, :w_summary, :w_body) AS rank
        FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid JOIN sites s ON s.id = a.site_id
        WHERE articles_fts MATCH :q
          AND (:include_removed OR a.removed_at IS NULL)
          AND (CAST(:site AS VARCHAR) IS NULL OR s.host = :site)
          AND (CAST(:since AS TIMESTAMP) IS NULL OR a.published >= :since)
        ORDER BY tier DESC, CASE WHEN tier >= 3 THEN length(a.title) ELSE 0 END, rank DESC,
                 a.published IS NULL, a.published DESC, a.id
        LIMIT :limit""",
}
_STATEMENTS = {
    name: text(sql)
    .bindparams(
        bindparam("include_removed", type_=Boolean()),
        bindparam("site", type_=String()),
        bindparam("since", type_=DateTime()),
    )
    .columns(**_COLUMNS)
    for name, sql in _SEARCH_SQL.items()
}


def search(
    engine: Engine | Connection,
    query: Query | str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
    include_removed: bool = False,
    marks: tuple[str, str] = ("**", "**"),
) -> list[Hit]:
    """The articles matching ``query``, best first (title > summary > body), then the newest."""
    if isinstance(query, str):
        query = parse_query(query)
    params = {
        "limit": limit,
        "include_removed": include_removed,
        "site": site.removeprefix("www.") if site else None,
        "since": since.astimezone(UTC).replace(tzinfo=None) if since else None,  # stored as naive UTC
    }
    if isinstance(engine, Engine):
        with engine.connect() as connection:
            rows = _run(connection, query, params)
    else:
        rows = _run(engine, query, params)
    return [
        Hit(
            id=row.id,
            url=row.url,
            site=row.site,
            published=_moment(row.published),
            title=row.title,
            summary=row.summary,
            snippet=snippet(query, row.summary, row.body_text, marks=marks),
            score=float(row.rank),
            removed_at=_moment(row.removed_at),
        )
        for row in rows
    ]


def _run(connection: Connection, query: Query, params: dict) -> list:
    if connection.dialect.name == "postgresql":
        params = {
            **params,
            "q": query.tsquery(),
            "q_sequence": query.sequence().tsquery("A"),
            "q_title": query.tsquery("A"),
            "q_lead": query.tsquery("AB"),
            "weights": PG_WEIGHTS,
        }
        return connection.execute(_STATEMENTS["postgresql"], params).all()
    w_title, w_summary, w_body = FTS_WEIGHTS
    params = {
        **params,
        "q": query.fts5(),
        "q_sequence": query.sequence().fts5("title"),
        "q_title": query.fts5("title"),
        "q_lead": query.fts5("title summary"),
        "w_title": w_title,
        "w_summary": w_summary,
        "w_body": w_body,
    }
    return connection.execute(_STATEMENTS["sqlite"], params).all()


def _moment(value: datetime | str | None) -> datetime | None:
    """A stored time as aware UTC: PostgreSQL gives datetimes, SQLite text; text that is no time
    (written by hand or another tool) is no time rather than an exception ending the search."""
    if value is None or isinstance(value, datetime):
        return _aware(value)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)  # as models.UTCDateTime reads it


SNIPPET_WORDS = 30


def _indexed_part(value: str) -> str:
    """The start of a text the index can have matched: its first MAX_BODY_TOKENS words (and a little
    more, as words and tokens split alike but not always). A snippet looks no further: a 5 MB body
    took 2 s to fold, and the canned search of two such articles hit Datasette's time limit."""
    if len(value) < 50_000:
        return value
    end = 0
    for i, word in enumerate(_WORD.finditer(value)):
        if i >= MAX_BODY_TOKENS:
            break
        end = word.end()
    return value[: end + 1_000]


@lru_cache(maxsize=65_536)
def _word_tokens(word: str) -> tuple[str, ...]:
    """The folded tokens of one word of a text (snippets of many hits share most words)."""
    return tuple(tokens(word))


def snippet(query: Query, *texts: str | None, marks: tuple[str, str] = ("**", "**"), words: int = SNIPPET_WORDS) -> str:
    """A one-line excerpt, in the original spelling (with its diacritics), of the text where most of
    the query's words matched (the first such), those words marked; the start of the first text when
    none matched (a hit in the title only)."""
    best: tuple[int, str, list[re.Match], list[int]] | None = None
    for value in texts:
        if not value or not value.strip():
            continue
        value = unicodedata.normalize("NFC", _indexed_part(value))
        found, hits, seen = _matches_in(query, value)
        if best is None or len(seen) > best[0]:
            best = (len(seen), value, found, hits)
    if best is None:
        return ""
    _, value, found, hits = best
    return _excerpt(value, found, hits, marks, words)


def _matches_in(query: Query, value: str) -> tuple[list[re.Match], list[int], set[str]]:
    """The words of ``value`` (NFC), the indexes of those the query asks for, and their folded forms.

    Where folding keeps every character in place (NFC Vietnamese: each letter folds to one letter),
    one regular expression over the folded text finds the query's words (a search page makes a
    hundred snippets of bodies a thousand words long); otherwise each word is folded and tested."""
    found = list(_WORD.finditer(value))
    folded = _fold_in_place(value)
    if len(folded) == len(value):
        starts = [match.start() for match in found]
        hits, seen = [], set()
        for match in _query_pattern(query).finditer(folded):
            i = bisect_left(starts, match.start())
            if i < len(found) and starts[i] == match.start() and found[i].end() == match.end():
                hits.append(i)
                seen.add(match.group())
        return found, hits, seen
    hits, seen = [], set()
    for i, match in enumerate(found):
        matched = [word for word in _word_tokens(match.group()) if query.matches(word)]
        if matched:
            hits.append(i)
            seen.update(matched)
    return found, hits, seen


_IN_PLACE: dict[int, str | None] = dict(_FOLD)  # + each other character met, folded on its own
_IN_PLACE_SEEN: set[int] = set(_FOLD)


def _fold_in_place(value: str) -> str:
    """:func:`fold` character by character (each character's own fold, cached), so that where every
    character folds to one the offsets of ``value`` and its fold agree. :func:`fold` itself strips
    marks over the whole text for letters outside its table; only offsets differ, which the caller
    checks by length."""
    lowered = value.lower()
    if not lowered.isascii():
        for char in set(lowered):
            code = ord(char)
            if code > 127 and code not in _IN_PLACE_SEEN and len(_IN_PLACE_SEEN) < 100_000:
                _IN_PLACE_SEEN.add(code)
                _IN_PLACE[code] = fold(char)
    return lowered.translate(_IN_PLACE)


@lru_cache(maxsize=256)
def _query_pattern(query: Query) -> re.Pattern:
    """A whole folded word the query asks for (:meth:`Query.matches`), as one regular expression."""
    alternatives = set()
    for term in query.terms:
        for i, word in enumerate(term.words):
            last = i == len(term.words) - 1
            more = f"[^\\W_]{{0,{MAX_TOKEN_CHARS - len(word)}}}" if last and term.prefix else ""
            alternatives.add(re.escape(word) + more)
    ordered = sorted(alternatives, key=lambda alternative: (-len(alternative), alternative))
    return re.compile(r"(?<![^\W_])(?:" + "|".join(ordered) + r")(?![^\W_])")


def _excerpt(value: str, found: list[re.Match], hits: list[int], marks: tuple[str, str], words: int) -> str:
    if not found:
        return " ".join(value.split())
    start = max(0, (hits[0] if hits else 0) - words // 4)
    end = min(len(found), start + words)
    marked = set(hits)
    pieces, cursor = [], found[start].start()
    for i in range(start, end):
        match = found[i]
        pieces.append(value[cursor : match.start()])
        pieces.append(f"{marks[0]}{match.group()}{marks[1]}" if i in marked else match.group())
        cursor = match.end()
    excerpt = " ".join("".join(pieces).split())
    return ("… " if start > 0 else "") + excerpt + (" …" if end < len(found) else "")
