"""Container HEALTHCHECK: exit 0 when GET /health answers 200 within 3 s, else 1.

Standard library only, so the image needs no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def check(port: int, timeout: float = 3.0) -> bool:
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    try:
        port = int(os.environ.get("PORT", "9000"))
    except ValueError:
        return 1
    return 0 if check(port) else 1


if __name__ == "__main__":
    sys.exit(main())
