"""An OpenAI-compatible endpoint, so existing tools (the openai client, LangChain's ChatOpenAI)
work against Enclave unchanged, with an API key as the bearer token.

The answer is grounded in the documents the key's user may see. Its sources
travel in an extra top-level field, ``sources``, of the completion (and of the
last streamed chunk); OpenAI's clients keep unknown fields, so parsing is
unaffected. The last user message is the question; earlier messages make a
follow-up standalone, as in the chat. A stream carries the checked answer,
never a draft the check may still replace.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.llm import ChatMessage
from assistant.rag import Answer

from ..deps import AnsweringDep, AskingUser, CurrentUser, DbSession, RuntimeDep, ViewerDep

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: keep the text ones
            return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    # Unknown OpenAI options (top_p, n, user, …) are accepted and ignored, as tools send them.
    model_config = ConfigDict(extra="allow")

    model: str = Field(description="Any name is accepted; the served model answers (see GET /v1/models).")
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status_code=status)


@router.get("/models")
def list_models(_: CurrentUser, runtime: RuntimeDep):
    """The model Enclave answers with, in OpenAI's list format."""
    return {"object": "list", "data": [{"id": runtime.model_name, "object": "model", "created": 0, "owned_by": "enclave"}]}


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, user: AskingUser, viewer: ViewerDep,
                           answering: AnsweringDep, runtime: RuntimeDep, db: DbSession):
    """A grounded chat completion (streaming or not), with the cited sources in ``sources``."""
    db.close()  # the caller is known; no database connection is held while waiting for the model
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user" or not turns[-1].text().strip():
        return _error(400, "the last message must be a user message with text")
    question = turns[-1].text()
    history = [ChatMessage(m.role, m.text()) for m in turns[:-1]]
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    model = runtime.model_name
    if not body.stream:
        answer = await answering.answer(user.email, question, viewer, history, request=request)
        return _completion(completion_id, model, answer)
    answering.check_capacity()
    return StreamingResponse(
        _chunks(answering.stream(user.email, question, viewer, history), completion_id, model),
        media_type="text/event-stream",
    )


def _completion(completion_id: str, model: str, answer: Answer) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": [s.to_dict() for s in answer.sources],
    }


async def _chunks(events: AsyncIterator, completion_id: str, model: str) -> AsyncIterator[str]:
    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for event in events:
            # An OpenAI client shows the deltas it got and cannot take them back, so it is sent the checked
            # final answer, with its true markers, not the model's draft (which Enclave may replace).
            if isinstance(event, Answer):
                yield chunk({"content": event.text})
                yield chunk({}, "stop", sources=[s.to_dict() for s in event.sources])
    except Exception as error:  # headers are sent: report in-band, as OpenAI does
        yield f"data: {json.dumps({'error': {'message': f'generation failed: {error}', 'type': 'server_error'}})}\n\n"
    yield "data: [DONE]\n\n"
