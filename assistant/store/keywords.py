"""The keyword half of hybrid search, in the application database.

Embeddings blur exact words — a part number, a rare surname, a clause's
defined term — so every chunk is also indexed for keyword search: SQLite's
FTS5 (Okapi BM25 ranking) by default, PostgreSQL's full-text search
(``ts_rank_cd``) when the database is PostgreSQL, so several services share one
keyword index as they share the database. Each chunk's words are stemmed in
its document's language ("Kündigungsfristen" and "Kündigungsfrist" to one
stem, ``assistant.language``): on SQLite by Snowball in Python into a column
FTS5 indexes with accents folded, on PostgreSQL by the text-search
configuration of that language. A query is stemmed the same way for each
language the index holds and matched only against that language's chunks, so
a German question meets German documents on German stems and English ones on
English stems. Each document's ACL is kept as principal rows beside its
chunks, and a search joins them inside the query: the top-k is drawn from what
the viewer may see, as in the vector store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text

from assistant import language as languages
from assistant.access import Access, Viewer

from .base import Chunk

MAX_QUERY_TERMS = 32


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    score: float  # the backend's relevance, higher is better; comparable only within one search


def query_terms(query: str, language: str = languages.DEFAULT) -> list[str]:
    """The words of ``query`` worth matching in text of ``language``, in order, each once."""
    stopwords = languages.STOPWORDS.get(language, frozenset())
    terms: list[str] = []
    for word in languages.words(query):
        lone_letter = len(word) == 1 and not word.isdigit()  # the "s" of "what's"
        if word not in stopwords and not lone_letter and word not in terms:
            terms.append(word)
    return terms[:MAX_QUERY_TERMS]


class KeywordIndex(ABC):
    """Chunk texts for keyword search, each with its document's language and ACL."""

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
            connection.execute(text(self._insert_sql()), [self._row(c) for c in chunks])
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

    def languages(self) -> list[str]:
        """The languages of the indexed chunks, the most common first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT language FROM keyword_chunks GROUP BY language ORDER BY count(*) DESC, language")
            )
            return list(rows.scalars())

    def search(self, query: str, k: int, viewer: Viewer) -> list[KeywordHit]:
        """Up to ``k`` chunks ``viewer`` may see holding any of the query's words, best match first."""
        matches = {}
        for language in self.languages():
            terms = query_terms(query, language)
            if terms:
                matches[language] = self._match(terms, language, phrases=False)
        return self._search(matches, k, viewer)

    def search_phrases(self, phrases: list[str], k: int, viewer: Viewer) -> list[KeywordHit]:
        """Up to ``k`` chunks ``viewer`` may see holding any of ``phrases`` word for word, best match first."""
        phrases = [p.replace('"', " ").strip() for p in phrases]
        phrases = [p for p in phrases if p]
        if not phrases:
            return []
        return self._search({language: self._match(phrases, language, phrases=True) for language in self.languages()}, k, viewer)

    def _search(self, matches: dict[str, str], k: int, viewer: Viewer) -> list[KeywordHit]:
        """The best ``k`` chunks matching, in each language, that language's expression."""
        if not matches:
            return []
        visible = "" if viewer.sees_everything else (
            "AND c.document_id IN (SELECT document_id FROM keyword_principals WHERE principal IN :principals)"
        )
        statement = text(self._search_sql(len(matches), visible))
        parameters: dict = {"k": k}
        for n, (language, match) in enumerate(matches.items()):
            parameters |= {f"language_{n}": language, f"config_{n}": languages.configuration(language), f"match_{n}": match}
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

    @staticmethod
    def _row(chunk: Chunk) -> dict:
        language = chunk.language or languages.DEFAULT
        return {
            "chunk_id": chunk.id, "document_id": chunk.origin.document_id, "body": chunk.searchable_text,
            "language": language, "config": languages.configuration(language),
        }  # fmt: skip

    @abstractmethod
    def _insert_sql(self) -> str:
        """INSERT INTO keyword_chunks ... from a ``_row``."""

    @abstractmethod
    def _search_sql(self, languages: int, visible: str) -> str:
        """SELECT chunk_id, score ... best first, LIMIT :k, matching for each n < ``languages`` the chunks of
        :language_n (PostgreSQL configuration :config_n) with :match_n; ``visible`` is the ACL clause on alias ``c``."""

    @abstractmethod
    def _match(self, terms: list[str], language: str, phrases: bool) -> str:
        """The backend's expression matching chunks of ``language`` holding any of ``terms``, each as a phrase
        when ``phrases``."""


class SqliteKeywordIndex(KeywordIndex):
    """FTS5 indexes a copy of each chunk's text stemmed in Python (``stems``); accents are folded by its tokenizer."""

    def _insert_sql(self) -> str:
        return (
            "INSERT INTO keyword_chunks (chunk_id, document_id, body, language, stems) "
            "VALUES (:chunk_id, :document_id, :body, :language, :stems)"
        )

    @staticmethod
    def _row(chunk: Chunk) -> dict:
        row = KeywordIndex._row(chunk)
        return row | {"stems": " ".join(languages.stems(languages.words(row["body"]), row["language"]))}

    def _search_sql(self, count: int, visible: str) -> str:
        # bm25() is lower for better matches; negated so that higher is better everywhere.
        each = (
            "SELECT c.chunk_id, -bm25(keyword_fts) AS score FROM keyword_fts "
            "JOIN keyword_chunks c ON c.id = keyword_fts.rowid "
            "WHERE keyword_fts MATCH :match_{n} AND c.language = :language_{n} {visible}"
        )
        union = " UNION ALL ".join(each.format(n=n, visible=visible) for n in range(count))
        return f"SELECT chunk_id, score FROM ({union}) ORDER BY score DESC, chunk_id LIMIT :k"

    def _match(self, terms: list[str], language: str, phrases: bool) -> str:
        # Quoted, each term is a plain string (or a phrase) to FTS5, whatever its characters.
        stemmed = (" ".join(languages.stems(languages.words(term), language)) for term in terms)
        return " OR ".join(f'"{term}"' for term in stemmed if term)


class PostgresKeywordIndex(KeywordIndex):
    """Each row's ``terms`` is its text as its language's text-search configuration reads it."""

    def _insert_sql(self) -> str:
        return (
            "INSERT INTO keyword_chunks (chunk_id, document_id, body, language, terms) "
            "VALUES (:chunk_id, :document_id, :body, :language, to_tsvector(CAST(:config AS regconfig), :body))"
        )

    def _search_sql(self, count: int, visible: str) -> str:
        queries = ", ".join(
            f"(CAST(:language_{n} AS text), websearch_to_tsquery(CAST(:config_{n} AS regconfig), :match_{n}))"
            for n in range(count)
        )
        return (
            "SELECT c.chunk_id, ts_rank_cd(c.terms, q.query, 1) AS score "
            f"FROM (VALUES {queries}) AS q(language, query) JOIN keyword_chunks c ON c.language = q.language "
            f"WHERE c.terms @@ q.query {visible} ORDER BY score DESC, c.chunk_id LIMIT :k"
        )

    def _match(self, terms: list[str], language: str, phrases: bool) -> str:
        return " or ".join(f'"{term}"' if phrases else term for term in terms)


def keyword_index_for(engine: Engine) -> KeywordIndex:
    return PostgresKeywordIndex(engine) if engine.dialect.name == "postgresql" else SqliteKeywordIndex(engine)
