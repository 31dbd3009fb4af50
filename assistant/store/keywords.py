"""The keyword half of hybrid search, in the application database.

Embeddings blur exact words — a part number, a rare surname, a clause's
defined term — so every chunk is also indexed for keyword search: SQLite's
FTS5 (Okapi BM25 ranking, Porter stemming) by default, PostgreSQL's full-text
search (``ts_rank_cd`` over an English ``tsvector``) when the database is
PostgreSQL, so several services share one keyword index as they share the
database. Each document's ACL is kept as principal rows beside its chunks, and
a search joins them inside the query: the top-k is drawn from what the viewer
may see, as in the vector store.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text

from assistant.access import Access, Viewer

from .base import Chunk

MAX_QUERY_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to say anything about a passage; they would only slow the match down.
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers
    him his how i if in into is it its itself just me more most my no nor not of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would you
    your yours""".split()
)


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    score: float  # the backend's relevance, higher is better; comparable only within one search


def query_terms(query: str) -> list[str]:
    """The words of ``query`` worth matching, in order, each once."""
    terms: list[str] = []
    for word in _WORD.findall(query.lower()):
        lone_letter = len(word) == 1 and not word.isdigit()  # the "s" of "what's"
        if word not in STOPWORDS and not lone_letter and word not in terms:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


class KeywordIndex(ABC):
    """Chunk texts for keyword search, each with its document's ACL."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, chunks: Sequence[Chunk]) -> None:
        """Index chunks (replacing any with the same id) and their documents' ACLs."""
        if not chunks:
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM keyword_chunks WHERE chunk_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": [c.id for c in chunks]},
            )
            connection.execute(
                text("INSERT INTO keyword_chunks (chunk_id, document_id, body) VALUES (:chunk_id, :document_id, :body)"),
                [{"chunk_id": c.id, "document_id": c.origin.document_id, "body": c.searchable_text} for c in chunks],
            )
            origins = {c.origin.document_id: c.origin.access for c in chunks}
            for document_id, access in origins.items():
                self._replace_principals(connection, document_id, access)

    def delete_documents(self, document_ids: Iterable[str]) -> None:
        ids = list(document_ids)
        if not ids:
            return
        with self.engine.begin() as connection:
            for table in ("keyword_chunks", "keyword_principals"):
                connection.execute(
                    text(f"DELETE FROM {table} WHERE document_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids},
                )

    def set_access(self, document_id: str, access: Access) -> None:
        with self.engine.begin() as connection:
            self._replace_principals(connection, document_id, access)

    def search(self, query: str, k: int, viewer: Viewer) -> list[KeywordHit]:
        """Up to ``k`` chunks ``viewer`` may see holding any of the query's words, best match first."""
        terms = query_terms(query)
        return self._search(self._match(terms, phrases=False), k, viewer) if terms else []

    def search_phrases(self, phrases: list[str], k: int, viewer: Viewer) -> list[KeywordHit]:
        """Up to ``k`` chunks ``viewer`` may see holding any of ``phrases`` word for word, best match first."""
        phrases = [p.replace('"', " ").strip() for p in phrases]
        phrases = [p for p in phrases if p]
        return self._search(self._match(phrases, phrases=True), k, viewer) if phrases else []

    def _search(self, match: str, k: int, viewer: Viewer) -> list[KeywordHit]:
        visible = "" if viewer.sees_everything else (
            "AND c.document_id IN (SELECT document_id FROM keyword_principals WHERE principal IN :principals)"
        )
        statement = text(self._search_sql(visible))
        parameters = {"k": k, "match": match}
        if visible:
            statement = statement.bindparams(bindparam("principals", expanding=True))
            parameters["principals"] = viewer.principals()
        with self.engine.connect() as connection:
            return [KeywordHit(row.chunk_id, float(row.score)) for row in connection.execute(statement, parameters)]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM keyword_chunks")).scalar_one()

    def chunk_counts(self) -> dict[str, int]:
        """How many chunks each document has here, by document id."""
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT document_id, count(*) FROM keyword_chunks GROUP BY document_id"))
            return {document_id: count for document_id, count in rows}

    def clear(self) -> None:
        """Forget every chunk and ACL (before rebuilding the index from the vector store)."""
        with self.engine.begin() as connection:
            for table in ("keyword_chunks", "keyword_principals"):
                connection.execute(text(f"DELETE FROM {table}"))

    @staticmethod
    def _replace_principals(connection, document_id: str, access: Access) -> None:
        connection.execute(text("DELETE FROM keyword_principals WHERE document_id = :d"), {"d": document_id})
        connection.execute(
            text("INSERT INTO keyword_principals (document_id, principal) VALUES (:d, :p)"),
            [{"d": document_id, "p": p} for p in access.principals()],
        )

    @abstractmethod
    def _search_sql(self, visible: str) -> str:
        """SELECT chunk_id, score ... best first, LIMIT :k; ``visible`` is the ACL clause on alias ``c``."""

    @abstractmethod
    def _match(self, terms: list[str], phrases: bool) -> str:
        """The backend's expression matching any of ``terms``, each as a phrase when ``phrases``."""


class SqliteKeywordIndex(KeywordIndex):
    def _search_sql(self, visible: str) -> str:
        # bm25() is lower for better matches; negated so that higher is better everywhere.
        return (
            "SELECT c.chunk_id, -bm25(keyword_fts) AS score FROM keyword_fts "
            "JOIN keyword_chunks c ON c.id = keyword_fts.rowid "
            f"WHERE keyword_fts MATCH :match {visible} ORDER BY bm25(keyword_fts), c.chunk_id LIMIT :k"
        )

    def _match(self, terms: list[str], phrases: bool) -> str:
        # Quoted, each term is a plain string (or a phrase) to FTS5, whatever its characters.
        return " OR ".join(f'"{term}"' for term in terms)


class PostgresKeywordIndex(KeywordIndex):
    def _search_sql(self, visible: str) -> str:
        return (
            "SELECT c.chunk_id, ts_rank_cd(c.terms, q.query, 1) AS score "
            "FROM keyword_chunks c, websearch_to_tsquery('english', :match) AS q(query) "
            f"WHERE c.terms @@ q.query {visible} ORDER BY score DESC, c.chunk_id LIMIT :k"
        )

    def _match(self, terms: list[str], phrases: bool) -> str:
        return " or ".join(f'"{term}"' if phrases else term for term in terms)


def keyword_index_for(engine: Engine) -> KeywordIndex:
    return PostgresKeywordIndex(engine) if engine.dialect.name == "postgresql" else SqliteKeywordIndex(engine)
