#!/usr/bin/env python3
"""Time from process start to the first prompt text, through a real pseudo-terminal.

    first_prompt.py --runs N --marker REGEX [--cwd DIR] [--timeout S] -- CMD ARGS...

Each run forks CMD on a fresh pty (80x24, TERM=xterm-256color, CI unset), reads
its output and stops the clock when REGEX (searched in the output with ANSI escapes
removed) first matches; then the process group is killed. Prints one JSON object:
{"samples_ms": [...], "median_ms": x, "min_ms": x, "excerpt": "..."}.
With --dump, prints what the first run wrote instead (to pick a marker).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-B]|\x1b[=>]")


def one_run(cmd: list[str], marker: re.Pattern[str], cwd: str | None, timeout: float, env: dict[str, str]) -> tuple[float | None, str]:
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            if cwd:
                os.chdir(cwd)
            os.execvpe(cmd[0], cmd, env)
        except Exception as exc:  # noqa: BLE001
            os.write(2, f"exec failed: {exc}\n".encode())
        os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    buf = b""
    found: float | None = None
    deadline = t0 + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        if marker.search(ANSI.sub(b"", buf).decode("utf-8", "replace")):
            found = (time.perf_counter() - t0) * 1000
            break
    for sig in (signal.SIGKILL,):
        try:
            os.killpg(pid, sig)
        except OSError:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    os.close(fd)
    return found, ANSI.sub(b"", buf).decode("utf-8", "replace")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--marker", default=".")
    ap.add_argument("--cwd")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--dump", action="store_true")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    env.setdefault("COLUMNS", "80")
    env.setdefault("LINES", "24")
    marker = re.compile(args.marker)
    if args.dump:
        _, out = one_run(cmd, re.compile(r"(?!x)x"), args.cwd, min(args.timeout, 5), env)
        print(out)
        return 0
    samples: list[float] = []
    excerpt = ""
    for i in range(args.warmup + args.runs):
        ms, out = one_run(cmd, marker, args.cwd, args.timeout, env)
        if ms is None:
            print(json.dumps({"error": f"marker {args.marker!r} not seen within {args.timeout}s", "output": out[-400:]}))
            return 1
        if i >= args.warmup:
            samples.append(round(ms, 1))
        excerpt = out[-200:]
    print(json.dumps({"samples_ms": samples, "median_ms": round(statistics.median(samples), 1), "min_ms": min(samples), "excerpt": excerpt}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
