"""The engine: Numba MCTS, self-play, learners, distribution and the command-line entry points."""
