"""The llama.cpp backend evaluates each system prompt once and restores it after other prompts.

Failure modes covered: an answer right after a different prompt (the follow-up
rewrite) evaluating its system prompt again instead of restoring it; a restored
state giving a different answer than evaluating the whole prompt; a restore when the
context already starts with the prompt's system message.
"""

from __future__ import annotations

import pytest

from assistant.llm import ChatMessage, GenerationOptions

RULES = (
    "You are a careful assistant. Answer in one short sentence using only the source below, and copy its "
    "figures exactly. If the source does not say, answer: The documents do not say."
)
ANSWER = [
    ChatMessage("system", RULES),
    ChatMessage("user", "Source: The cafeteria opens at 07:30 for breakfast.\n\nQuestion: When does the cafeteria open?"),
]
OTHER = [
    ChatMessage("system", "Rewrite the user's question so it stands alone. Reply with the question only, nothing else."),
    ChatMessage("user", "Conversation:\nuser: When does the cafeteria open?\n\nLast question: and on Sundays?"),
]
GREEDY = GenerationOptions(max_tokens=24, temperature=0.0)


@pytest.mark.llm
def test_an_answer_after_another_prompt_restores_its_system_prompt_and_says_the_same(llm):
    first = llm.complete(ANSWER, GREEDY)
    restored = llm.prefix_states.restored

    llm.complete(OTHER, GREEDY)
    after_other = llm.complete(ANSWER, GREEDY)

    assert llm.prefix_states.restored == restored + 1
    assert after_other == first
    assert "07:30" in first


@pytest.mark.llm
def test_a_context_already_holding_the_system_prompt_is_left_alone(llm):
    llm.complete(ANSWER, GREEDY)
    restored = llm.prefix_states.restored

    llm.complete(ANSWER, GREEDY)

    assert llm.prefix_states.restored == restored
