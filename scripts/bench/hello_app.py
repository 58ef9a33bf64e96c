"""The bare FastAPI baseline of `npm run bench` (scripts/bench/service.mjs).

GET /health and POST /v1/chat with nothing but FastAPI, pydantic and the same
uvicorn settings as the generated service's runner (uvloop, httptools, one
worker, no access log). /v1/chat awaits asyncio.sleep(FAKE_LLM_LATENCY_MS) like
the generated fake model. Runs in the generated project's environment, so the
package versions are the same:

    HOST=127.0.0.1 PORT=18500 uv run --project GENERATED python scripts/bench/hello_app.py
"""

from __future__ import annotations

import asyncio
import os

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

LATENCY = int(os.environ.get("FAKE_LLM_LATENCY_MS", "0")) / 1000

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
