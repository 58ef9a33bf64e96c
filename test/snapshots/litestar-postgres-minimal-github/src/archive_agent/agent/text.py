"""Model output made valid text before anything keeps or sends it.

A model (or a tool) can produce a lone surrogate (``\\ud800``, from a JSON
escape) or a NUL: neither can be encoded as UTF-8 or stored by Postgres, so
one such answer would break every later read of its session. Both are
replaced with U+FFFD, the Unicode replacement character: the answer stays
readable and shows where something was lost, rather than silently shrinking.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` with every NUL and lone surrogate replaced by U+FFFD."""
    return _NOT_TEXT.sub(REPLACEMENT, value)
