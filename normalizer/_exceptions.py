"""Exceptions raised by normalizer.

The whole tree::

    NormalizerError
    ├── MappingError             a mapping file is invalid (carries file, key, reason)
    └── UnregisteredVendorError  a vendor id no loaded mapping defines (also a LookupError)

Vendor outcomes are values (:class:`normalizer.Outcome`), not exceptions: classifying a
response never raises because of what the vendor answered.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class NormalizerError(Exception):
    """Base class of every exception normalizer raises."""


class MappingError(NormalizerError, ValueError):
    """A mapping file is invalid: ``path`` (the file), ``key`` (dotted, inside it), ``reason``."""

    def __init__(self, path: str | Path | None, key: str, reason: str) -> None:
        self.path = None if path is None else str(path)
        self.key = key
        self.reason = reason
        where = self.path or "<mapping>"
        super().__init__(f"{where}: {key}: {reason}" if key else f"{where}: {reason}")


class UnregisteredVendorError(NormalizerError, LookupError):
    """No loaded mapping defines ``vendor``; ``known`` lists the ids that are defined."""

    def __init__(self, vendor: str, known: Iterable[str]) -> None:
        self.vendor = vendor
        self.known = tuple(sorted(known))
        super().__init__(
            f"unknown vendor {vendor!r}; known vendors: {', '.join(self.known) or '(none)'}"
        )

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0])
