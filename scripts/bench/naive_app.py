"""The naive sample chat endpoint of the seed documents, for `npm run bench`.

An ``async def`` handler that calls the (fake) model with the blocking
``time.sleep``: while one request sleeps, the event loop, and so every other
request on this worker, waits. This is what the generated service avoids (its
fake model awaits ``asyncio.sleep``; its real client is async httpx). Same
latency (FAKE_LLM_LATENCY_MS) and the same uvicorn settings as the others:

    HOST=127.0.0.1 PORT=18500 FAKE_LLM_LATENCY_MS=50 uv run --project GENERATED python scripts/bench/naive_app.py
"""

from __future__ import annotations

import os
import time

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

LATENCY = int(os.environ.get("FAKE_LLM_LATENCY_MS", "0")) / 1000

app = FastAPI()


class ChatRequest(BaseModel):
    message: str
    session_id: str | None = None


def call_model(message: str) -> str:
    time.sleep(LATENCY)  # the blocking call inside an async handler
    return f"You said: {message}"


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/chat")
async def chat(body: ChatRequest) -> dict[str, str]:
    return {"answer": call_model(body.message), "session_id": body.session_id or "s"}


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
