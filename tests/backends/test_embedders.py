"""The shipped embedding models, as the settings name them.

Failure modes covered: a model name not reaching its backend (the default
taken instead); E5 fed questions as passages or passages as questions (its
"query: " and "passage: " mixed up: the question then matches another
question-like text better than its answer); vectors not normalised; a German
question not closest to the German passage that answers it.
"""

from __future__ import annotations

import math

import pytest

from assistant.embeddings import MULTILINGUAL, get_embedder
from tests.conftest import settings_for


@pytest.fixture(scope="module")
def e5(tmp_path_factory):
    return get_embedder(settings_for(data_dir=tmp_path_factory.mktemp("e5"), embedding_model=MULTILINGUAL))


def _cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b))


def test_multilingual_e5_is_chosen_by_name_and_embeds_questions_apart_from_passages(e5):
    question = "Wie lange ist die Kündigungsfrist in der Probezeit?"
    passages = [
        "In der Probezeit beträgt die Kündigungsfrist für beide Seiten zwei Wochen.",
        "Die Kantine ist montags bis freitags von 11:30 bis 14:00 Uhr geöffnet.",
        "During probation, either side may give two weeks' notice.",
    ]

    asked = e5.embed_query(question)
    vectors = e5.embed_documents(passages)

    assert e5.name == MULTILINGUAL and len(asked) == 384
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-3) for v in [asked, *vectors])
    scores = [_cosine(asked, v) for v in vectors]
    assert scores[0] == max(scores) and scores[2] > scores[1]  # the answer, then its English twin
    assert e5.embed_queries([question])[0] != e5.embed_documents([question])[0]  # "query: " is not "passage: "
