from ..cli import run_main
from .program import main

run_main(main)
