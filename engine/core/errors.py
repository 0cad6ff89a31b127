"""Errors that commands report as one clear line (``engine.cli.run_main``), never as a traceback."""


class UserError(Exception):
    """A problem with what the user asked for (bad option, file, position ...): reported without a traceback."""


class ConfigError(UserError):
    """A configuration problem, reported with the dotted key and the valid keys."""
