"""Helpers for the test suites of code that uses normalizer.

``set_testing(True)`` makes retries instant (``attempts=1`` turns them off), in the manner of
``stamina.set_testing``, so tests of code calling vendors through normalizer stay fast.
"""

from __future__ import annotations

from ._retry import set_testing

__all__ = ["set_testing"]
