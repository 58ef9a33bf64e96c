"""Drive a command through a real pseudo-terminal with real keystrokes.

usage: python3 pty_driver.py STEPS_JSON -- CMD [ARGS...]
STEPS_JSON: [{"expect": "regex on ANSI-stripped output since the last match", "send": "keys"}, ...]
Prints one JSON object: {"exit": code, "signal": n|null, "output": stripped transcript, "failed_step": i|null}
"""
import fcntl, json, os, pty, re, select, signal, struct, sys, termios, time

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def main():
    steps = json.loads(sys.argv[1])
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    timeout = float(os.environ.get("PTY_STEP_TIMEOUT", "10"))
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        # PTY_PATH: the command's PATH exactly (a pyenv python3 shim prepends its own bin to PATH)
        if "PTY_PATH" in os.environ:
            os.environ["PATH"] = os.environ.pop("PTY_PATH")
        fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execvp(cmd[0], cmd)
    raw = b""
    cursor = 0
    failed = None

    def pump(deadline):
        nonlocal raw
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return False
                if not chunk:
                    return False
                raw += chunk
                return True
        return True

    for i, step in enumerate(steps):
        pattern = re.compile(step["expect"]) if step.get("expect") else None
        deadline = time.time() + timeout
        matched = pattern is None
        while not matched and time.time() < deadline:
            alive = pump(time.time() + 0.1)
            text = ANSI.sub("", raw.decode("utf-8", "replace"))
            m = pattern.search(text, cursor)
            if m:
                cursor = m.end()
                matched = True
            elif not alive:
                break
        if not matched:
            failed = i
            break
        time.sleep(float(step.get("delay", 0.05)))
        if "send" in step:
            os.write(fd, step["send"].encode())
    # drain until exit
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        pump(time.time() + 0.1)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    try:
        while True:
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            raw += chunk
    except OSError:
        pass
    out = {
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "output": ANSI.sub("", raw.decode("utf-8", "replace")),
        "failed_step": failed,
    }
    print(json.dumps(out))


main()
