"""Drive ``python -m engine.play`` through a pseudo-terminal, as a person at a keyboard would.

The program runs as the session leader of a new pty (``pty.fork``), so it sees a real terminal: rich draws
colours and the live search line, and Ctrl-C (``\\x03``) and Ctrl-D (``\\x04``) reach it through the line
discipline as they would from a keyboard. ``screen`` is everything it wrote with the terminal escape
sequences taken out (``raw`` keeps them); ``expect`` waits for a pattern in what came since the last expect.
"""

from __future__ import annotations

import codecs
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text).replace("\r", "")


class Terminal:
    """A pty running ``python -m engine.play ARGS`` (cwd: the repository) with a ``cols`` x ``rows`` screen."""

    def __init__(self, args: list[str], cols: int = 110, rows: int = 50, env: dict | None = None):
        environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
        environ.update({"TERM": "xterm-256color", "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1",
                        "PYTHONPATH": str(ROOT)}, **(env or {}))
        argv = [sys.executable, "-m", "engine.play", *args]
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the program (nothing else runs here)
            try:
                os.chdir(ROOT)
                # a person's terminal delivers Ctrl-C; a shell's background job would start us with SIGINT ignored
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.execve(sys.executable, argv, environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.raw = ""
        # a read may end inside a multi-byte character (● is three bytes): decode across reads
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.mark = 0  # expect searches the screen from here
        self.status: int | None = None

    @property
    def screen(self) -> str:
        return strip_ansi(self.raw)

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout``); False once the program has closed the terminal."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        if not data:
            return False
        self.raw += self._decoder.decode(data)
        return True

    def expect(self, pattern: str, timeout: float = 120.0) -> re.Match:
        """Wait until ``pattern`` (a regex) shows in the screen after the last match; move the mark past it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.screen, self.mark)
            if found:
                self.mark = found.end()
                return found
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                found = regex.search(self.screen, self.mark)
                if found:
                    self.mark = found.end()
                    return found
                tail = self.screen[self.mark:][-3000:]
                raise AssertionError(f"{pattern!r} did not show within {timeout:.0f} s; the screen since the last "
                                     f"match ends with:\n{tail}")

    def since(self, start: int) -> str:
        return self.screen[start:]

    def send(self, line: str) -> None:
        """Type ``line`` and Enter."""
        os.write(self.fd, line.encode() + b"\r")

    def key(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 60.0) -> int:
        """Read until the program exits; its exit status (-signal when killed)."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            self._read(0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                while self._read(0.05) and select.select([self.fd], [], [], 0)[0]:
                    pass
            elif time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the program did not exit within {timeout:.0f} s; screen ends with:\n"
                                     f"{self.screen[-2000:]}")
        return self.status

    def kill(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
                self.status = os.waitstatus_to_exitcode(status)
            except ProcessLookupError:
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
