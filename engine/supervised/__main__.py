"""``python -m engine.supervised``: see ``engine.supervised.cli``."""

from ..cli import run_main
from .cli import main

if __name__ == "__main__":
    run_main(main)
