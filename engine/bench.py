"""Benchmarks: ``python -m engine.bench NAME [options]`` prints figures and writes them as JSON.

Each benchmark lives in ``engine/benchmarks/NAME.py`` with a ``main(argv)``; results go to
``--out`` (default ``bench-results/NAME.json``). Speed is shown here, never by timed tests.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from .cli import UserError, run_main


def available() -> list[str]:
    from . import benchmarks

    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks: " + ", ".join(names))
        return 0
    name, rest = argv[0], argv[1:]
    if name not in names:
        raise UserError(f"unknown benchmark {name!r}; available: {', '.join(names)}")
    module = importlib.import_module(f"engine.benchmarks.{name}")
    return module.main(rest)


if __name__ == "__main__":
    run_main(main)
