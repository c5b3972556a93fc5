"""Fixtures shared by the data tests."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["one-block", "7-char-blocks"])
def json_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a JSON adapter test twice: the file read at once, and 7 characters at a time,
    so every value, error and resynchronisation spans block boundaries."""
    if request.param == "7-char-blocks":
        from contactops.data.adapters import _jsonio

        monkeypatch.setattr(_jsonio, "BLOCK", 7)
    return str(request.param)
