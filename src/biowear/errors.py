"""Exception types: every user-facing failure is one of these, with a message that names the problem."""

from __future__ import annotations


class BiowearError(Exception):
    """Base class of all errors biowear raises on purpose."""


class ConfigError(BiowearError, ValueError):
    """A configuration value is invalid (unknown name, impossible value, conflicting options)."""


class DataError(BiowearError):
    """Input data is missing, corrupt or unusable (bad record, NaNs, wrong sampling rate)."""
