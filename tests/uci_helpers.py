"""A UCI engine in a subprocess for protocol tests: send lines, read lines with deadlines, keep stderr."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 600  # a fresh checkout compiles the chess and search kernels on first use (minutes)


class UciProcess:
    def __init__(self, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.uci", *args], cwd=ROOT, text=True, bufsize=1,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        self._stderr_pump = threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append),
                                             daemon=True)
        self._stderr_pump.start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def send(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read_until(self, prefix: str, timeout: float = 60) -> list[str]:
        """Lines up to and including the first that starts with ``prefix``."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {prefix!r} within {timeout} s; got {out}; stderr {self.stderr}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            out.append(line)
            if line.startswith(prefix):
                return out

    def drain(self, seconds: float) -> list[str]:
        """Whatever arrives within ``seconds``."""
        out, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                out.append(self.lines.get(timeout=left))
            except queue.Empty:
                break
        return out

    def stderr_until(self, start: int, done, timeout: float = 30) -> list[str]:
        """stderr lines from index ``start`` on, once ``done(lines)`` holds (stderr is its own pipe, read by its
        own thread: a line written before a stdout reply may arrive after it)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = list(self.stderr[start:])
            if done(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"stderr did not reach the expected lines within {timeout} s: {lines}")
            time.sleep(0.02)

    def all_stderr(self, timeout: float = 30) -> list[str]:
        """Every stderr line of a process that has exited (waits for its pipe to be read to the end)."""
        self.proc.wait(timeout=timeout)
        self._stderr_pump.join(timeout)
        return list(self.stderr)

    def ready(self, timeout: float = START_TIMEOUT) -> None:
        self.send("isready")
        self.read_until("readyok", timeout)

    def close(self) -> int:
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()
