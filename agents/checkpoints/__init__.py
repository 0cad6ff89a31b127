"""Trained networks shipped with the package: ``<game>.pt`` (``nets`` checkpoints), found by
``agents.make("alphazero", game)``, ``engine.analyze`` and ``engine.arena``. How each was trained: README.md."""
