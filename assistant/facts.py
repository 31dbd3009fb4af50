"""The checkable facts of a text: its figures, dates, names, places and codes, in one comparable form.

A question about 2019 must not be answered from a sentence about 2009, and an
answer must not state a figure its evidence lacks. Both are decided here by
comparing facts, not by asking the model: "three days" and "3 days", "1,500"
and "1500", "Tuesdays" and "Tuesday" are the same fact; "14:00" and "14:30"
are not. Names and codes are compared as words, case-blind.
"""

from __future__ import annotations

import re

# "one" is left out: far more often a pronoun ("one of our suppliers") than a figure.
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
    if word != "one"
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "twice": "2", "half": "0.5"}
# "first" is left out like "one": "answer yes or no first", "the first quarterback" name no figure.
_ORDINAL_WORDS = {
    "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7",
    "eighth": "8", "ninth": "9", "tenth": "10",
}  # fmt: skip
_MONTH_NAMES = tuple("january february march april may june july august september october november december".split())
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NAMED_DATES = frozenset(_MONTH_NAMES + _WEEKDAYS)
# Capitalised words that are no names: question words, and what any sentence may start with.
_NOT_NAMES = frozenset(
    """a an the i is are was were do does did can could should would will may must how what when where which who
    whom whose why if in on at for to of and or but my our your their its it this that these those there please
    yes no ok i'm i've i'll i'd""".split()
)
_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further get gets got had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not of off on once only or other
    our ours out over own same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what when where which while who whom why will with would
    you your yours much many""".split()
)
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*[A-Za-zÀ-ÿ0-9\-_/]*|[A-Za-zÀ-ÿ0-9][A-Za-zÀ-ÿ0-9'’\-_/]*")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_WORD = re.compile(r"[a-zà-ÿ0-9]+")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")


def content_words(text: str) -> set[str]:
    """The words of ``text`` that say something (no stopwords, no two-letter words but figures and codes
    such as "P3"), unstemmed."""
    return {
        w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and (len(w) > 2 or any(c.isdigit() for c in w))
    }  # fmt: skip


def stem(word: str) -> str:
    """A rough English stem: enough for "employees"/"employee" and "closes"/"closing" to meet."""
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + replacement
    return word


def stems(text: str) -> set[str]:
    """The stems of ``text``'s content words."""
    return {stem(w) for w in content_words(text)}


def _number(token: str) -> str:
    if _THOUSANDS.match(token):
        return token.replace(",", "")
    token = token.rstrip(".,:")
    return re.sub(r"^(\d+)[.,]00$", r"\1", token)  # "450.00" states 450


def facts(text: str) -> set[str]:
    """The figures, dates, names, places and codes ``text`` states, normalised for comparison."""
    found: set[str] = set()
    for match in _TOKEN.finditer(text):
        token = match.group()
        lower = token.lower().strip("'’")
        bare = re.sub(r"'s$|’s$", "", lower)
        if any(c.isdigit() for c in token):
            numbers = _NUMBER.findall(token)
            letters = re.sub(r"\d+(?:st|nd|rd|th)\b", "", lower)
            if any(c.isalpha() for c in letters) or "-" in token:
                found.add(bare)  # a code: VB-900, ISO9001
            found.update(_number(n) for n in numbers)
        elif bare in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[bare])
        elif bare in _ORDINAL_WORDS and not _opens_sentence(text, match.start()):
            found.add(_ORDINAL_WORDS[bare])
        elif stem(bare) in NAMED_DATES or bare in NAMED_DATES:
            found.add(bare if bare in NAMED_DATES else stem(bare))
        elif token[0].isupper() and bare.replace("’", "'") not in _NOT_NAMES and (token.isupper() or not _opens_sentence(text, match.start())):
            found.add(stem(bare))  # a sentence's first word is capitalised anyway: "List the holidays"
    return found


def _opens_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?:\n"


def missing(claimed: str, evidence: str) -> set[str]:
    """The facts of ``claimed`` that ``evidence`` does not state. A figure or code must be there as such;
    a name is there when each of its words is ("Full-time" in "full-time", "Tarnwick's" in "Tarnwick"); a
    weekday when a span of days holding it is ("Wednesday" in "Monday to Friday", "Saturday" in "weekends")."""
    stated = facts(evidence) | days_covered(evidence)
    in_order = _WORD.findall(evidence.lower())
    words = set(in_order) | {stem(w) for w in in_order}
    return {
        fact for fact in facts(claimed)
        if fact not in stated and (any(c.isdigit() for c in fact) or not set(_WORD.findall(fact)) <= words)
        and not _abbreviated(fact, in_order)
    }  # fmt: skip


def _abbreviated(fact: str, words: list[str]) -> bool:
    """Whether ``fact`` ("hq", "ceo") abbreviates words of the evidence: the initials of words in a row ("chief
    executive officer"), or the parts of one compound word, each of three letters or more ("headquarters")."""
    if not (2 <= len(fact) <= 5 and fact.isalpha()):
        return False
    size = len(fact)
    if any("".join(w[0] for w in words[i : i + size]) == fact for i in range(len(words) - size + 1)):
        return True
    parts = "".join(f"{letter}[a-z]{{2,}}" for letter in fact)
    return any(re.fullmatch(parts, word) for word in words if word[0] == fact[0])


_DAY = "(" + "|".join(_WEEKDAYS) + ")s?"
_DAY_SPAN = re.compile(rf"\b{_DAY}\s*(?:to|through|until|till|-|–)\s*{_DAY}\b", re.I)


def days_covered(text: str) -> set[str]:
    """The weekdays a span in ``text`` covers: "Monday to Friday", "Friday - Sunday", "weekdays", "weekends"."""
    lower = text.lower()
    days: set[str] = set()
    for first, last in _DAY_SPAN.findall(lower):
        start, end = _WEEKDAYS.index(first), _WEEKDAYS.index(last)
        days.update(_WEEKDAYS[start : end + 1] if start <= end else _WEEKDAYS[start:] + _WEEKDAYS[: end + 1])
    if re.search(r"\bweekdays?\b", lower):
        days.update(_WEEKDAYS[:5])
    if re.search(r"\bweekends?\b", lower):
        days.update(_WEEKDAYS[5:])
    return days


def numbers_missing(claimed: str, evidence: str) -> set[str]:
    """The figures and codes of ``claimed`` that ``evidence`` does not state (names left aside). A count
    ("25 days") is not stated by the same figure as an ordinal ("paid on the 25th")."""
    held = facts(evidence)
    only_ordinal = _figures(_ORDINAL, evidence) - _figures(_CARDINAL, evidence)
    absent = {fact for fact in facts(claimed) if any(c.isdigit() for c in fact) and fact not in held}
    return absent | (_figures(_COUNT, claimed) & only_ordinal) | _measured_otherwise(claimed, evidence)


_MONTHS = "|".join(_MONTH_NAMES)
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b|\b(" + "|".join(_ORDINAL_WORDS) + r")\b", re.I)
_CARDINAL = re.compile(r"(?<![\w.,:])(\d+)(?![\w])|\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
# A figure counting something: followed by a word that is not a month ("25 days", not "25 June").
_COUNT = re.compile(r"(?<![\w.,:])(\d+|" + "|".join(_NUMBER_WORDS) + rf")\s+(?!(?:of\s+)?(?:{_MONTHS})\b)[a-z]", re.I)


_FIGURE = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(days?|weeks?|months?|years?|hours?|minutes?)"
_MEASURE = re.compile(_FIGURE + r"(?:[\s-]+[a-z]+){0,2}?[\s-]+" + _UNIT + r"\b", re.I)
_NEAR = 3  # words between a figure and its unit ("27 working days", "Vacation days: 27")


def _measured_otherwise(claimed: str, evidence: str) -> set[str]:
    """The figures ``claimed`` gives in days, weeks, months, years or hours that ``evidence`` holds only
    as something else: "14 days" is not stated by "paid 14 times a year"."""
    words = re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?", evidence.lower())
    found = set()
    for match in _MEASURE.finditer(claimed):
        figure = _NUMBER_WORDS.get(match.group(1).lower(), _number(match.group(1)))
        unit = stem(match.group(2).lower())
        places = [i for i, w in enumerate(words) if _NUMBER_WORDS.get(w, _number(w)) == figure]
        near = (stem(w) for i in places for w in words[max(0, i - _NEAR) : i + _NEAR + 1])
        if places and unit not in set(near):
            found.add(figure)
    return found


def _figures(pattern: re.Pattern[str], text: str) -> set[str]:
    found = set()
    for match in pattern.finditer(text):
        figure = next(g for g in match.groups() if g).lower()
        found.add(_NUMBER_WORDS.get(figure) or _ORDINAL_WORDS.get(figure) or figure)
    return found


# (pattern, the side it bounds, whether the bound itself is in): "250 units or more", "up to five days".
# "from" sets no bound here: "from 3 suppliers" is no minimum.
_BOUNDS = (
    (re.compile(_FIGURE + r"\s+(?:[a-z]+\s+){0,3}or (?:more|longer|over|above|higher|later)\b", re.I), "low", True),
    (re.compile(r"\b(?:at least|minimum(?: of)?)\s+" + _FIGURE, re.I), "low", True),
    (re.compile(r"\b(?:(?:more|longer|greater|higher|later) than|over|above|exceeding)\s+" + _FIGURE, re.I),
     "low", False),
    (re.compile(_FIGURE + r"\s+(?:[a-z]+\s+){0,3}or (?:less|fewer|shorter|under|below)\b", re.I), "high", True),
    (re.compile(r"\b(?:up to|at most|maximum(?: of)?|no more than)\s+" + _FIGURE, re.I), "high", True),
    (re.compile(r"\b(?:(?:less|fewer|shorter) than|under|below)\s+" + _FIGURE, re.I), "high", False),
)


def _value(figure: str) -> float | None:
    figure = _NUMBER_WORDS.get(figure.lower(), figure)
    try:
        return float(_number(figure).replace(",", "."))
    except ValueError:
        return None


def within_bounds(figure: str, text: str) -> bool:
    """Whether ``text`` sets a bound that ``figure`` meets ("300" and "250 units or more", "3" and "up to
    five days"): a question about 300 units is answered by the line for 250 or more."""
    value = _value(figure)
    if value is None:
        return False
    for pattern, side, inclusive in _BOUNDS:
        for match in pattern.finditer(text):
            bound = _value(match.group(1))
            if bound is None:
                continue
            if side == "low" and (value > bound or inclusive and value == bound):
                return True
            if side == "high" and (value < bound or inclusive and value == bound):
                return True
    return False


_BEFORE_YEAR = re.compile(r"\b(?:before|prior to|until|till)\s+((?:1[89]|20)\d{2})\b", re.I)
YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")


def periods_missing(question: str, evidence: str) -> set[str]:
    """The times before a year the question asks about ("before 2025") that ``evidence`` does not cover,
    neither in those words nor with an earlier year: a policy "effective 1 January 2025" says nothing of
    what held before it."""
    years = {int(y) for y in YEAR.findall(evidence)}
    said = evidence.lower()
    return {
        match.group().lower() for match in _BEFORE_YEAR.finditer(question)
        if match.group().lower() not in said and not any(y < int(match.group(1)) for y in years)
    }  # fmt: skip
