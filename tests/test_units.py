"""Human input at the edges: durations and targets."""

from __future__ import annotations

import pytest

from contactops.errors import InvalidParameterError
from contactops.units import parse_duration, parse_share, parse_target


@pytest.mark.parametrize(("text", "seconds"), [
    ("180s", 180.0), ("3m", 180.0), ("30m", 1800.0), ("1h30m", 5400.0), ("2.5min", 150.0),
    ("20", 20.0), (45, 45.0), ("1:30", 90.0), ("01:00:00", 3600.0), ("1 h", 3600.0),
])
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "3 parsecs", "10s extra", "-5s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidParameterError, match="must be"):
        parse_duration(text, name="--aht")


def test_parse_target() -> None:
    assert parse_target("80/20") == (0.8, 20.0)
    assert parse_target("90%/30s") == (0.9, 30.0)
    assert parse_target("0.8/1m") == (0.8, 60.0)
    with pytest.raises(InvalidParameterError, match='"SL/threshold"'):
        parse_target("80")
    with pytest.raises(InvalidParameterError, match="between"):
        parse_target("100/20")


def test_parse_share() -> None:
    assert parse_share("30%") == pytest.approx(0.3)
    assert parse_share("0.3") == pytest.approx(0.3)
    with pytest.raises(InvalidParameterError):
        parse_share("x")


def test_share_zero_only_when_allowed() -> None:
    import pytest

    from contactops.errors import InvalidParameterError
    from contactops.units import parse_share

    assert parse_share("0%", allow_zero=True) == 0.0
    assert parse_share(0, allow_zero=True) == 0.0
    assert parse_share("30%", allow_zero=True) == 0.3
    with pytest.raises(InvalidParameterError, match="strictly between"):
        parse_share("0")
    with pytest.raises(InvalidParameterError, match="strictly between"):
        parse_share("100%", allow_zero=True)
