"""One module per benchmark (``python -m engine.bench NAME``); shared helpers in ``_common``."""
