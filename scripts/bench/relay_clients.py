"""The upstream read path of the streaming relay, client by client (streaming group).

    python relay_clients.py UPSTREAM_PORT STREAMS ROUNDS   # prints BENCH_JSON {...}

Only the part of a relayed token that the HTTP client library decides: STREAMS
concurrent POSTs to the mock endpoint (scripts/bench/mock_upstream.mjs, its own
process), each read to [DONE], its ``data:`` lines split as the generated
service's ``_sse_data()`` splits them and each parsed with ``json.loads``. The
CPU of this process (``time.process_time()``) over a batch, divided by the
content tokens read, is the figure; the variants take turns in each round, on
uvloop as the service runs. Every stream's tokens are counted, so a client that
loses or duplicates data fails instead of looking fast.

- httpx aiter_bytes: what the service does now (httpx.AsyncClient, one pool);
- httpx aiter_raw: the same without httpx's content decoders;
- aiohttp iter_any: aiohttp's ClientSession, the chunks as they arrive.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import httpx
import uvloop

BODY = {"model": "bench", "stream": True, "messages": [{"role": "user", "content": "hello"}]}


async def data_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    pending = b""
    async for chunk in chunks:
        pending += chunk
        if b"\n" not in chunk:
            continue
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.startswith(b"data:"):
                yield line[5:].strip()


async def count_tokens(chunks: AsyncIterator[bytes]) -> int:
    tokens = 0
    async for data in data_lines(chunks):
        if data == b"[DONE]":
            break
        for choice in json.loads(data)["choices"]:
            if choice["delta"].get("content"):
                tokens += 1
    return tokens


Stream = Callable[[], Awaitable[int]]


def httpx_variant(url: str, streams: int, raw: bool) -> tuple[Stream, Callable[[], Awaitable[None]]]:
    limits = httpx.Limits(max_connections=streams, max_keepalive_connections=streams)
    client = httpx.AsyncClient(limits=limits, timeout=30)

    async def one() -> int:
        async with client.stream("POST", url, json=BODY) as response:
            return await count_tokens(response.aiter_raw() if raw else response.aiter_bytes())

    return one, client.aclose


def aiohttp_variant(url: str, streams: int) -> tuple[Stream, Callable[[], Awaitable[None]]]:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=streams), timeout=aiohttp.ClientTimeout(total=30)
    )

    async def one() -> int:
        async with session.post(url, json=BODY) as response:
            return await count_tokens(response.content.iter_any())

    return one, session.close


async def batch(one: Stream, streams: int) -> tuple[float, int]:
    started = time.process_time()
    tokens = await asyncio.gather(*(one() for _ in range(streams)))
    return time.process_time() - started, sum(tokens)


async def main() -> None:
    port, streams, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    variants = {
        "httpx aiter_bytes": httpx_variant(url, streams, raw=False),
        "httpx aiter_raw": httpx_variant(url, streams, raw=True),
        "aiohttp iter_any": aiohttp_variant(url, streams),
    }
    expected: int | None = None
    samples: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for name, (one, _) in variants.items():
            await batch(one, streams)  # warm-up: connections open, code paths hot
        for _ in range(rounds):
            for name, (one, _) in variants.items():
                cpu, tokens = await batch(one, streams)
                expected = expected or tokens
                if tokens != expected or tokens == 0:
                    raise SystemExit(f"{name}: {tokens} tokens read, expected {expected}")
                samples[name].append(cpu * 1e6 / tokens)
    finally:
        for _, close in variants.values():
            await close()
    base = samples["httpx aiter_bytes"]
    out = {
        "streams": streams,
        "rounds": rounds,
        "tokensPerBatch": expected,
        "clients": {
            name: {
                "cpuUsPerToken": round(statistics.median(xs), 1),
                "samples": [round(x, 1) for x in xs],
                # each round's ratio to the variant that ran just before it, the median
                "vsHttpxAiterBytes": round(statistics.median(x / b for x, b in zip(xs, base)), 2),
            }
            for name, xs in samples.items()
        },
    }
    print("BENCH_JSON " + json.dumps(out))


if __name__ == "__main__":
    uvloop.run(main())
