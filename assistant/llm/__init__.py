"""LLM backends: llama.cpp in-process by default, or any OpenAI-compatible server."""

from __future__ import annotations

from assistant.config import Settings

from .base import LLM, ChatMessage, GenerationCancelled, GenerationOptions


def get_llm(settings: Settings, model: str | None = None) -> LLM:
    if settings.llm_backend == "openai":
        from assistant.errors import ConfigurationError

        from .openai_server import OpenAIServerLLM

        if not settings.llm_url:
            raise ConfigurationError("ENCLAVE_LLM_BACKEND=openai needs ENCLAVE_LLM_URL (e.g. http://llm:8080/v1)")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAIServerLLM(
            settings.llm_url, key, model or settings.model, settings.context_size, settings.llm_slots
        )

    from assistant.catalog import active_model

    from .llamacpp import LlamaCppLLM

    entry = active_model(settings, model)
    return LlamaCppLLM(entry.path, entry.name, settings.context_size, settings.threads, settings.batch_size, entry.sha256)


__all__ = ["LLM", "ChatMessage", "GenerationCancelled", "GenerationOptions", "get_llm"]
