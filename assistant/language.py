"""Which language a text is written in, and how its words are reduced to stems for keyword search.

A document's language is detected once, when it is indexed, from the start of
its text; a question's when it is asked, to search each document's words the
way they were indexed and to answer in the asker's language. Detection is
langdetect's (seeded, so the same text always gets the same answer). Stemming
is Snowball's, the same algorithms PostgreSQL's text-search configurations use,
for the languages both have; any other language is indexed word for word.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache

DEFAULT = "en"  # what text too short or too mixed to tell is taken for (Enclave's language before it told them apart)
SAMPLE_CHARS = 3000  # the start of a document is enough to tell its language; all of it only costs time
SURE = 0.8  # langdetect's probability below which a document's guess is not trusted
# ISO 639-1 code -> the Snowball stemmer and PostgreSQL text-search configuration of that name.
STEMMED = {
    "da": "danish", "de": "german", "en": "english", "es": "spanish", "fi": "finnish", "fr": "french",
    "hu": "hungarian", "it": "italian", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip
UNSTEMMED = "simple"  # PostgreSQL's configuration that only lower-cases
_WORD = re.compile(r"\w+", re.UNICODE)
# langdetect loads its profiles into a shared factory on first use, unguarded: one detection at a time.
_DETECTING = threading.Lock()

# Words too common to say anything about a passage, per language; a query leaves them out.
STOPWORDS = {
    "en": frozenset(
        """a about above after again all also am an and any are as at be because been before being below between
        both but by can could did do does doing down during each few for from further had has have having he her
        here hers him his how i if in into is it its itself just me more most my no nor not of off on once only or
        other our ours out over own same she should so some such than that the their theirs them then there these
        they this those through to too under until up very was we were what when where which while who whom why
        will with would you your yours""".split()
    ),
    "de": frozenset(
        """aber alle allem allen aller alles als also am an ans auch auf aus bei beim bin bis bist da damit dann
        das dass dein deine dem den denn der des dich die dies diese diesem diesen dieser dieses dir doch dort du
        durch ein eine einem einen einer eines er es etwa euch euer eure für gibt hab habe haben hat hatte hätte
        ich ihm ihn ihnen ihr ihre im in ins ist ja jede jedem jeden jeder jedes kann kein keine können man manche
        mein meine mich mir mit muss müssen nach nicht noch nun nur ob oder ohne sein seine sich sie sind so soll
        sollen über um und uns unser unsere unter vom von vor war waren was weil welche welchem welchen welcher
        viele wem wen wenn wer wie wieso wieviel wir wird wo zu zum zur""".split()
    ),
}


def name(code: str) -> str | None:
    """The language's English name ("German"), where Enclave knows it."""
    return STEMMED[code].capitalize() if code in STEMMED else None


def _candidates(text: str) -> list[tuple[str, float]]:
    """langdetect's guesses for ``text``, likeliest first; none when it holds no letters."""
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0  # langdetect samples at random; seeded, one text always gets one answer
    try:
        with _DETECTING:
            return [(guess.lang, guess.prob) for guess in detect_langs(text)]
    except LangDetectException:
        return []


def of_document(text: str) -> str:
    """The language a document is written in (an ISO 639-1 code), from the start of its text."""
    guesses = _candidates(text[:SAMPLE_CHARS])
    return guesses[0][0] if guesses and guesses[0][1] >= SURE else DEFAULT


def of_question(question: str, indexed: Sequence[str]) -> str:
    """The language a question is asked in, among those of the indexed documents (``indexed``, the most
    common first) and English. A few words often look like another language to langdetect ("Who approves
    travel expenses?" is French to it), so only languages something is written in count; when none of its
    guesses is one, the documents' most common language is the likeliest."""
    possible = [*indexed, DEFAULT]
    for language, _ in _candidates(question):
        if language in possible:
            return language
    return possible[0]


def configuration(language: str) -> str:
    """The PostgreSQL text-search configuration (and Snowball stemmer) for ``language``."""
    return STEMMED.get(language, UNSTEMMED)


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order."""
    return _WORD.findall(text.lower())


def stems(words: Sequence[str], language: str) -> list[str]:
    """``words`` without accents, reduced to their stems in ``language`` ("Urlaubsanträge", "Urlaubsantrage"
    and "Urlaubsantrag" to one); only without accents in a language without a stemmer. Accents go first, so
    a word typed without them meets the same stem ("conges" and "congés")."""
    stemmer = _stemmer(configuration(language)) or str
    return [stemmer(_unaccented(word)) for word in words]


def _unaccented(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)) if decomposed != word else word


@cache
def _stemmer(algorithm: str):
    if algorithm == UNSTEMMED:
        return None
    import snowballstemmer

    stemmer, lock = snowballstemmer.stemmer(algorithm), threading.Lock()

    def stem(word: str) -> str:
        with lock:  # a Snowball stemmer holds the word it works on: one word at a time
            return stemmer.stemWord(word)

    # The same word recurs on every page: stemming each once is most of the speed.
    return lru_cache(maxsize=200_000)(stem)
