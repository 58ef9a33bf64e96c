"""The FastAPI + LangGraph peer of `npm run bench` (scripts/bench/service.mjs, streaming.mjs).

The way the seed documents and agent-service-toolkit build a chat service: a
compiled LangGraph ``StateGraph`` over ``MessagesState`` with one node that calls
a chat model, a ``MemorySaver`` checkpointer keyed by the session id
(``thread_id``), ``graph.ainvoke`` behind ``POST /v1/chat`` and
``graph.astream(stream_mode="messages")`` behind the SSE ``POST /v1/chat/stream``.

The model is langchain-core's ``GenericFakeChatModel`` (answers at once, after
FAKE_LLM_LATENCY_MS when set), or, with LLM_BASE_URL set, langchain-openai's
``ChatOpenAI`` against that OpenAI-compatible endpoint (the streaming test's mock
upstream). Same uvicorn settings as the other baselines. Runs in the bench's own
environment (scripts/bench/langgraph/requirements.txt, created by the bench):

    HOST=127.0.0.1 PORT=18500 .cache/bench-langgraph/<hash>/bin/python scripts/bench/langgraph_app.py
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import uuid
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import END, START, MessagesState, StateGraph
from pydantic import BaseModel, Field

LATENCY = int(os.environ.get("FAKE_LLM_LATENCY_MS", "0")) / 1000
UPSTREAM = os.environ.get("LLM_BASE_URL", "")
ANSWER = "Hello! I am a fake model answering your message right away."


def make_model() -> BaseChatModel:
    if UPSTREAM:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=UPSTREAM, api_key="bench", model="bench", timeout=20)
    # a fresh AIMessage per call (strings), so the checkpointer appends every answer
    return GenericFakeChatModel(messages=itertools.repeat(ANSWER))


model = make_model()


async def call_model(state: MessagesState) -> dict[str, list]:
    if LATENCY:
        await asyncio.sleep(LATENCY)
    return {"messages": [await model.ainvoke(state["messages"])]}


graph = (
    StateGraph(MessagesState)
    .add_node("model", call_model)
    .add_edge(START, "model")
    .add_edge("model", END)
    .compile(checkpointer=MemorySaver())
)

app = FastAPI()


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    session_id: str | None = None


class ChatResponse(BaseModel):
    answer: str
    session_id: str


def _config(session_id: str) -> dict:
    return {"configurable": {"thread_id": session_id}}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/chat")
async def chat(body: ChatRequest) -> ChatResponse:
    session_id = body.session_id or uuid.uuid4().hex
    state = await graph.ainvoke({"messages": [HumanMessage(body.message)]}, _config(session_id))
    return ChatResponse(answer=str(state["messages"][-1].content), session_id=session_id)


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


@app.post("/v1/chat/stream")
async def chat_stream(body: ChatRequest) -> StreamingResponse:
    session_id = body.session_id or uuid.uuid4().hex

    async def events() -> AsyncIterator[str]:
        parts: list[str] = []
        async for chunk, _meta in graph.astream(
            {"messages": [HumanMessage(body.message)]}, _config(session_id), stream_mode="messages"
        ):
            if isinstance(chunk.content, str) and chunk.content:
                parts.append(chunk.content)
                yield _event("token", {"delta": chunk.content})
        yield _event("done", {"answer": "".join(parts), "session_id": session_id})

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
