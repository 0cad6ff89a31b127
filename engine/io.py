"""Kept for imports written before ``engine.core``: atomic file writes live in ``engine.core.io``."""

from .core.io import atomic_path, atomic_write, atomic_write_bytes, atomic_write_text

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "atomic_write_text"]
