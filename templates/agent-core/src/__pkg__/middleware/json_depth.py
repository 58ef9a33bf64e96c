"""A bound on JSON nesting, checked on the raw body before any framework parses it.

How deep a JSON parser can nest depends on the parser and the interpreter
(msgspec on Python 3.13 decodes 5,000 levels that raise RecursionError on 3.12),
so the contract fixes the bound itself: deeper than ``MAX_JSON_DEPTH`` is a 400
``bad_request`` on every framework and Python version.

No JSON library exposes a depth limit, hence this small scanner. It is cheap
for ordinary bodies: nesting can never be deeper than the number of ``[`` and
``{`` bytes seen, and while that count stays within the bound (every chat
body) the chunks are only counted (``bytes.count``, in C). Past it the body is
scanned for the bytes that matter (brackets outside strings, quotes and
backslashes), from its start.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64

_STRUCTURAL = re.compile(rb'[\[\]{}"\\]')
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


class JsonDepthScanner:
    """Feed a JSON text in chunks; ``feed()`` is False once it nests deeper than ``max_depth``.

    It checks nesting only: anything else malformed is left to the parser.
    """

    def __init__(self, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.max_depth = max_depth
        self._opened = 0  # [ and { bytes seen, strings included: an upper bound on the depth
        self._pending: list[bytes] | None = []  # chunks not scanned yet; None once scanning
        self._depth = 0
        self._in_string = False
        self._escaped = -1  # index, in the next chunk, of a byte a backslash escaped

    def feed(self, chunk: bytes) -> bool:
        if self._pending is not None:
            self._opened += chunk.count(b"[") + chunk.count(b"{")
            if self._opened <= self.max_depth:
                self._pending.append(chunk)
                return True
            pending, self._pending = self._pending, None
            return all(self._scan(part) for part in (*pending, chunk))
        return self._scan(chunk)

    def _scan(self, chunk: bytes) -> bool:
        escaped = self._escaped
        for match in _STRUCTURAL.finditer(chunk):
            index = match.start()
            if index == escaped:
                continue
            byte = chunk[index]
            if self._in_string:
                if byte == _BACKSLASH:
                    escaped = index + 1
                elif byte == _QUOTE:
                    self._in_string = False
            elif byte == _QUOTE:
                self._in_string = True
            elif byte in _OPEN:
                self._depth += 1
                if self._depth > self.max_depth:
                    return False
            elif byte in _CLOSE:
                self._depth -= 1
        self._escaped = escaped - len(chunk) if escaped >= len(chunk) else -1
        return True
