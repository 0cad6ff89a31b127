"""GTP protocol handling, apart from Go: input cleaning, the input thread, and the dispatcher.

A command is ``[id] name [arguments]``; the answer is ``=[id] result`` or ``?[id] message`` followed by an empty
line (G. Farnebäck, *Specification of the Go Text Protocol, version 2, draft 2*, 2002). Input lines are cleaned
as section 2.4 says (control characters dropped, ``#`` comments cut, tabs made spaces, empty lines ignored).

The dispatcher knows commands only through handler objects: each ``cmd_<name>(args) -> answer text`` method of a
registered handler answers GTP command ``name`` (``cmd_lz_analyze`` answers ``lz-analyze``: the prefixes of the
extensions, ``lz_``, ``kgs_`` and ``gogui_``, become ``lz-``, ``kgs-`` and ``gogui-``). A handler raises
``GtpFailure`` for a ``?`` answer; any other exception is a bug, answered ``? internal error`` with the engine
going on. Diagnostics go to the log (stderr), so stdout carries the protocol alone.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TextIO

PROTOCOL_VERSION = "2"
STREAMED = object()
"""A handler's answer when it wrote its answer itself (analysis streams ``info`` lines)."""
_EXTENSION_PREFIXES = ("lz_", "kgs_", "gogui_", "kata_")


class GtpFailure(Exception):
    """A command that cannot be carried out: answered ``? message``."""


# ------------------------------------------------------------------------------------------- input
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def preprocess(line: str) -> str:
    """One input line cleaned as GTP section 2.4 says: control characters other than tab removed, the text
    from ``#`` on cut, tabs turned into spaces, surrounding space stripped ("" for a line to ignore)."""
    line = _CONTROL.sub("", line.rstrip("\n"))
    line = line.split("#", 1)[0].replace("\t", " ")
    return line.strip()


def parse_command(line: str) -> tuple[str, str, list[str]]:
    """``(id, name, arguments)`` of a cleaned command line; ``id`` is "" when absent."""
    parts = line.split()
    cid = ""
    if parts and parts[0].isdigit():
        cid = parts.pop(0)
    name = parts[0].lower() if parts else ""
    return cid, name, parts[1:]


def command_name(method: str) -> str:
    """The GTP name answered by handler method ``method`` (``cmd_kgs_genmove_cleanup`` -> ``kgs-genmove_cleanup``)."""
    name = method[len("cmd_"):]
    for prefix in _EXTENSION_PREFIXES:
        if name.startswith(prefix):
            return prefix[:-1] + "-" + name[len(prefix):]
    return name


class Inbox:
    """Commands read by the input thread, each with the time it arrived, waiting for the engine; ``pending``
    tells an analysis to stop."""

    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._lines: deque[tuple[str, float]] = deque()
        self._ready = threading.Condition()
        self._now = now
        self.closed = False

    def put(self, line: str) -> None:
        with self._ready:
            self._lines.append((line, self._now()))
            self._ready.notify_all()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify_all()

    def get(self) -> tuple[str, float] | None:
        """The next command and its arrival time, waiting for it; None once the input has ended."""
        with self._ready:
            while not self._lines and not self.closed:
                self._ready.wait()
            return self._lines.popleft() if self._lines else None

    def pending(self) -> bool:
        """A command (or the end of the input) is waiting."""
        return bool(self._lines) or self.closed

    def wait_pending(self) -> None:
        with self._ready:
            while not self._lines and not self.closed:
                self._ready.wait()


def _fd_lines(fd: int):
    """Lines read from a file descriptor with ``os.read``: no buffered file object, whose lock a daemon thread
    blocked in a read would hold when the interpreter exits (a fatal error at shutdown)."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending


def read_input(stream, inbox: Inbox) -> None:
    """The input thread: clean each line of ``stream`` (a file descriptor, or lines as bytes or text) and queue
    the non-empty ones."""
    try:
        for raw in (_fd_lines(stream) if isinstance(stream, int) else stream):
            text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
            line = preprocess(text)
            if line:
                inbox.put(line)
    except OSError:
        pass
    finally:
        inbox.close()


def one_paragraph(text: str) -> str:
    """A GTP answer may not contain an empty line (it ends the answer)."""
    while "\n\n" in text:
        text = text.replace("\n\n", "\n")
    return text.rstrip("\n")


# ------------------------------------------------------------------------------------------- dispatch
class GtpDispatcher:
    """Parses commands, finds their handler, and formats answers; ``serve`` reads stdin in a thread.

    ``now`` is the clock of arrival times (``received``: when the command being run arrived), injectable for
    tests of time controls.
    """

    def __init__(self, name: str, version: Callable[[], str], out: TextIO | None = None,
                 log: TextIO | None = None, now: Callable[[], float] = time.monotonic):
        self.name, self._version = name, version
        self.out = out if out is not None else sys.stdout
        self.log = log if log is not None else sys.stderr
        self.now = now
        self.inbox = Inbox(now)
        self.handlers: dict[str, Callable[[list[str]], object]] = {}
        self.errors = 0
        self.commands = 0
        self.quit = False
        self.cid = ""
        self.received = now()
        self._write_lock = threading.Lock()
        self.add_handlers(self)

    def add_handlers(self, obj) -> None:
        """Register every ``cmd_<name>`` method of ``obj``."""
        for attr in dir(obj):
            if attr.startswith("cmd_") and callable(getattr(obj, attr)):
                self.handlers[command_name(attr)] = getattr(obj, attr)

    # ---------------------------------------------------------------------------------- running commands
    def execute(self, line: str, received: float | None = None) -> str | None:
        """Run one command line (already cleaned, or raw: it is cleaned again) that arrived at ``received``
        (default: now) and return its full answer (``None`` for an empty line; a streamed answer is written to
        ``out`` and gives "")."""
        line = preprocess(line)
        if not line:
            return None
        cid, name, args = parse_command(line)
        self.commands += 1
        handler = self.handlers.get(name)
        if handler is None:
            self.errors += 1
            return f"?{cid} unknown command\n\n"
        self.cid = cid
        self.received = self.now() if received is None else received
        try:
            answer = handler(args)
        except GtpFailure as err:
            self.errors += 1
            return f"?{cid} {_cut(one_paragraph(str(err)))}\n\n"
        except Exception as err:  # a bug must not end the session: report it and go on
            self.errors += 1
            traceback.print_exc(file=self.log)
            return f"?{cid} internal error: {type(err).__name__}: {_cut(one_paragraph(str(err)))}\n\n"
        if answer is STREAMED:
            return ""
        text = one_paragraph(answer or "")
        if text.startswith("\n"):
            return f"={cid}{text}\n\n"
        return f"={cid} {text}\n\n" if text else f"={cid}\n\n"

    def write(self, text: str) -> None:
        with self._write_lock:
            self.out.write(text)
            self.out.flush()

    def diag(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    def serve(self, stream=None) -> None:
        """Answer commands from ``stream`` (default: the file descriptor of stdin) until ``quit`` or the end of
        the input."""
        stream = stream if stream is not None else sys.stdin.fileno()
        reader = threading.Thread(target=read_input, args=(stream, self.inbox), daemon=True, name="gtp-input")
        reader.start()
        while not self.quit:
            item = self.inbox.get()
            if item is None:
                break
            answer = self.execute(*item)
            if answer:
                self.write(answer)

    # ---------------------------------------------------------------------------------- administrative
    def cmd_protocol_version(self, args):
        return PROTOCOL_VERSION

    def cmd_name(self, args):
        return self.name

    def cmd_version(self, args):
        return self._version()

    def cmd_known_command(self, args):
        need(args, 1, "known_command NAME")
        return "true" if args[0].lower() in self.handlers else "false"

    def cmd_list_commands(self, args):
        return "\n".join(sorted(self.handlers))

    def cmd_quit(self, args):
        self.quit = True
        return ""


# ------------------------------------------------------------------------------------------- arguments
def need(args: list[str], count: int, usage: str) -> None:
    if len(args) < count:
        raise GtpFailure(f"syntax error: usage {usage}")


def number(text: str, kind=float, what: str = "a number", low: float | None = None, high: float | None = None):
    """``text`` as ``kind`` (finite), optionally within [low, high]; GtpFailure says what is wrong."""
    try:
        value = kind(text)
    except (ValueError, OverflowError):
        raise GtpFailure(f"syntax error: {_short(text)} is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise GtpFailure(f"syntax error: {_short(text)} is not {what}")
    if low is not None and value < low:
        raise GtpFailure(f"syntax error: {_short(text)} is below {low:g}")
    if high is not None and value > high:
        raise GtpFailure(f"syntax error: {_short(text)} is above {high:g}")
    return value


def _cut(text: str, limit: int = 300) -> str:
    """An error message no longer than ``limit`` (it may quote the input)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(text: str, limit: int = 24) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
