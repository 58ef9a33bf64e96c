"""The bare FastAPI baseline of `npm run bench` (scripts/bench/service.mjs).

GET /health and POST /v1/chat with nothing but FastAPI, pydantic and the same
uvicorn settings as the generated service's runner (uvloop, httptools, one
worker, no access log). /v1/chat awaits asyncio.sleep(FAKE_LLM_LATENCY_MS) like
the generated fake model. POST /v1/chat/stream (the streaming bench,
scripts/bench/streaming.mjs) relays the OpenAI-compatible stream of LLM_BASE_URL
as the same SSE events, through one httpx client with the generated service's
connection limits: the floor of a streaming relay on this stack. Runs in the
generated project's environment, so the package versions are the same:

    HOST=127.0.0.1 PORT=18500 uv run --project GENERATED python scripts/bench/hello_app.py
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

LATENCY = int(os.environ.get("FAKE_LLM_LATENCY_MS", "0")) / 1000
UPSTREAM = os.environ.get("LLM_BASE_URL", "")
upstream = httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

app = FastAPI()


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    session_id: str | None = None


class ChatResponse(BaseModel):
    answer: str
    session_id: str


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/chat")
async def chat(body: ChatRequest) -> ChatResponse:
    if LATENCY:
        await asyncio.sleep(LATENCY)
    return ChatResponse(answer=f"You said: {body.message}", session_id=body.session_id or "s")


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@app.post("/v1/chat/stream")
async def chat_stream(body: ChatRequest) -> StreamingResponse:
    payload = {"model": "bench", "messages": [{"role": "user", "content": body.message}], "stream": True}

    async def events() -> AsyncIterator[str]:
        parts: list[str] = []
        async with upstream.stream("POST", f"{UPSTREAM}/chat/completions", json=payload) as response:
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    break
                for choice in json.loads(line[6:]).get("choices", []):
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        parts.append(delta)
                        yield _event("token", {"delta": delta})
        yield _event("done", {"answer": "".join(parts), "session_id": body.session_id or "s"})

    return StreamingResponse(events(), media_type="text/event-stream")


if __name__ == "__main__":
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        loop="uvloop",
        http="httptools",
        workers=1,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        server_header=False,
        date_header=True,
        timeout_keep_alive=5,
    )
