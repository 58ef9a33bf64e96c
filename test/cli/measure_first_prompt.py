"""Time to first prompt of the interactive CLI, measured through a real pty.

usage: python3 test/cli/measure_first_prompt.py [RUNS] [NODE]  (from the repo root, after npm run build)
Prints the median/min/max milliseconds from spawn to the first question being drawn.
"""
import os, pty, select, statistics, sys, time, signal, fcntl, termios, struct
BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bin", "create-agent-service.js")
NODE = sys.argv[2] if len(sys.argv) > 2 else "node"


def once():
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.chdir(os.environ.get("TMPDIR", "/tmp"))
        os.execvp(NODE, [NODE, BIN, "--no-install", "--no-git"])
    buf = b""
    while True:
        r, _, _ = select.select([fd], [], [], 5)
        if not r: break
        buf += os.read(fd, 65536)
        if b"Service name" in buf:
            break
    t = (time.perf_counter() - t0) * 1000
    os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0); os.close(fd)
    return t
ts = [once() for _ in range(int(sys.argv[1]) if len(sys.argv) > 1 else 20)]
print(f"time to first prompt: median {statistics.median(ts):.1f} ms, min {min(ts):.1f}, max {max(ts):.1f} (n={len(ts)})")
