"""In-process inference with llama-cpp-python: the appliance's default backend."""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .base import LLM, ChatMessage, GenerationOptions, chat_request, normalised

# Enclave sends few distinct system prompts (answering, rewriting follow-ups); a handful covers them.
PREFIX_STATES = 4
# A shorter prefix is cheaper to evaluate again than to save and restore.
MIN_PREFIX_TOKENS = 32


class LlamaCppLLM(LLM):
    def __init__(
        self, model_path: Path, name: str, context_size: int, threads: int, batch_size: int, sha256: str | None = None
    ):
        from llama_cpp import Llama

        self.name = name
        self.sha256 = sha256
        self.context_size = context_size
        # chat_format=None: llama-cpp-python takes the chat template from the GGUF metadata.
        self._llama = Llama(
            model_path=str(model_path),
            n_ctx=context_size,
            n_threads=threads,
            n_threads_batch=threads,
            n_batch=batch_size,
            verbose=False,
        )
        self.prefix_states = SystemPrefixStates(self._llama)
        # One llama context cannot serve two generations at once.
        self._lock = threading.Lock()
        self._spellings: dict[tuple[str, ...], dict[str, list[int]]] = {}

    def _stream(self, messages: Sequence[ChatMessage], options: GenerationOptions) -> Iterator[str]:
        with self._lock:
            self.prefix_states.prepare(messages)
            chunks = self._llama.create_chat_completion(**chat_request(messages, options))
            try:
                for chunk in chunks:
                    yield chunk["choices"][0]["delta"].get("content") or ""
            finally:
                chunks.close()

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def choice_probabilities(self, messages: Sequence[ChatMessage], choices: Sequence[str]) -> dict[str, float]:
        """Read from the model's logits for the reply's first token: those of every token spelling a choice."""
        llama = self._llama
        with self._lock:
            self.prefix_states.prepare(messages)
            tokens = self.prefix_states.tokens(messages)
            # Evaluate only what the context does not already hold (the system prefix, usually), but at least
            # the last token, whose logits are read.
            held = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
            llama.n_tokens = held
            llama.eval(tokens[held:])
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),))
            spelling = self._tokens_spelling(tuple(choices))
            return normalised({c: [float(logits[t]) for t in spelling[c]] for c in choices})

    def _tokens_spelling(self, choices: tuple[str, ...]) -> dict[str, list[int]]:
        """The single tokens that spell each choice as a reply's first word: "yes", "Yes", "YES"."""
        if choices not in self._spellings:
            spellings = {}
            for choice in choices:
                forms = {choice, choice.capitalize(), choice.upper()}
                encoded = (self._llama.tokenize(f.encode(), add_bos=False, special=False) for f in forms)
                spellings[choice] = sorted({t[0] for t in encoded if len(t) == 1})
            self._spellings[choices] = spellings
        return self._spellings[choices]


class SystemPrefixStates:
    """Keeps the evaluated system prompts, so each question pays only for its own tokens.

    llama-cpp-python already skips the prefix a prompt shares with the one
    before it. But a different prompt in between (the follow-up rewrite, whose
    rules differ) leaves the context holding that one, and the answer's rules
    would be evaluated again. So the model state right after each system prompt
    is saved once (its KV cache: about 12 kB a token for the 0.5B model, no
    logits) and put back whenever a prompt starts with it and the context holds
    something else; llama-cpp-python then evaluates only the rest.
    """

    def __init__(self, llama, capacity: int = PREFIX_STATES):
        self._llama = llama
        self._capacity = capacity
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self._formatter = _chat_formatter(llama)
        self.restored = 0  # how often a saved prefix spared an evaluation (for benchmarks)

    def prepare(self, messages: Sequence[ChatMessage]) -> None:
        """Leave the context starting with the system prefix of ``messages``, evaluated once ever."""
        prefix = self.system_prefix(messages)
        if len(prefix) < MIN_PREFIX_TOKENS:
            return
        if tuple(self._llama.input_ids[: min(self._llama.n_tokens, len(prefix))]) == prefix:
            return  # already in the context: llama-cpp-python reuses it by itself
        if prefix in self._states:
            self._states.move_to_end(prefix)
            self._restore(prefix, self._states[prefix])
            self.restored += 1
        else:
            self._states[prefix] = self._evaluate(prefix)
            if len(self._states) > self._capacity:
                self._states.popitem(last=False)

    def system_prefix(self, messages: Sequence[ChatMessage]) -> tuple[int, ...]:
        """The tokens of the whole prompt that belong to its system message: where the prompt
        rendered with the system message alone stops matching the full prompt."""
        if self._formatter is None or not messages or messages[0].role != "system":
            return ()
        full = self.tokens(messages)
        return tuple(full[: self._llama.longest_token_prefix(full, self.tokens(messages[:1]))])

    def tokens(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The prompt's tokens."""
        # Rendered and tokenised as llama-cpp-python's chat handler does, so the tokens match.
        rendered = self._formatter(messages=[{"role": m.role, "content": m.content} for m in messages])
        return self._llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)

    def _evaluate(self, prefix: tuple[int, ...]) -> bytes:
        import llama_cpp

        self._llama.reset()
        self._llama.eval(list(prefix))
        ctx = self._llama.ctx
        state = (ctypes.c_uint8 * llama_cpp.llama_state_seq_get_size(ctx, 0))()
        written = llama_cpp.llama_state_seq_get_data(ctx, state, len(state), 0)
        return bytes(state[:written])

    def _restore(self, prefix: tuple[int, ...], state: bytes) -> None:
        import llama_cpp

        self._llama.reset()
        self._llama._ctx.kv_cache_clear()
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(self._llama.ctx, buffer, len(state), 0) != len(state):
            return  # not restored: the context is empty and the prompt is evaluated in full
        self._llama.input_ids[: len(prefix)] = prefix
        self._llama.n_tokens = len(prefix)


def _chat_formatter(llama):
    """The formatter of the GGUF's own chat template (None without one: prefixes are then not kept)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None

    def text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8", errors="ignore") if token != -1 else ""

    return Jinja2ChatFormatter(template=template, eos_token=text(llama.token_eos()), bos_token=text(llama.token_bos()))
