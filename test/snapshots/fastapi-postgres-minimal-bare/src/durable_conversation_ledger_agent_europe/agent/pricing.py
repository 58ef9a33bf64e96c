"""Spend: tokens turned into US dollars with the LLM_PRICES table.

Prices are per million tokens, per model name as the model reports it; a model
missing from the table has no cost (``None``), never a guessed one. Cached
input tokens are billed at ``cached_input`` (the input price when not given).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..config import ModelPrice

PER_TOKENS = 1_000_000


def cost_usd(
    prices: Mapping[str, ModelPrice],
    model: str,
    *,
    input_tokens: int,
    cached_input_tokens: int,
    output_tokens: int,
) -> float | None:
    """The cost of one model call; ``input_tokens`` includes the cached ones."""
    price = prices.get(model)
    if price is None:
        return None
    cached = min(cached_input_tokens, input_tokens)
    cached_price = price.input if price.cached_input is None else price.cached_input
    return (
        (input_tokens - cached) * price.input + cached * cached_price + output_tokens * price.output
    ) / PER_TOKENS
