"""Shared test helpers: where ../shared is, and how to treat it when it is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# numba compiles on first use; hypothesis must not count that against a deadline
settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
# CI draws the same examples every run (a submission lands or not on its own code, not on
# the luck of the draw); runs on a developer's machine explore new ones each time
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=120,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


def shared_file(relative: str) -> Path:
    """Path of a file under ../shared; skip when absent, but fail in CI (CI=true)."""
    path = SHARED / relative
    if not path.exists():
        message = f"../shared/{relative} is not present beside the checkout"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required in CI)")
        pytest.skip(message)
    return path
