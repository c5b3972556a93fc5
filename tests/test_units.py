"""Human input at the edges: durations, shares, targets and time zones."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactops.errors import InvalidParameterError
from contactops.units import check_timezone, parse_duration, parse_share, parse_target


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("180s", 180.0),
        ("3m", 180.0),
        ("30m", 1800.0),
        ("1h30m", 5400.0),
        ("2.5min", 150.0),
        ("20", 20.0),
        (45, 45.0),
        ("1:30", 90.0),
        ("01:00:00", 3600.0),
        ("1 h", 3600.0),
    ],
)
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


@pytest.mark.parametrize(
    "text",
    [
        "130%/20",
        "100%/20",
        "150/20",
        "0/20",
        "-80/20",
        "nan/20",
        "80/-5",
        "80/x",
        "80/",
        "/20",
        "80/20/5",
        "1e400/20",
    ],
)
def test_parse_target_refuses_out_of_range(text: str) -> None:
    """130%/20 used to plan for 1.3% (the % divided twice); now it is refused, naming the option."""
    with pytest.raises(InvalidParameterError, match=r"^--target must be") as err:
        parse_target(text, name="--target")
    assert err.value.value == text


@pytest.mark.parametrize(
    "text",
    [
        "130%",
        "100%",
        "150",
        "101",
        "-5%",
        "-0.1",
        "nan",
        "inf",
        "1e400",
        "30 %%",
        "thirty",
        "",
        "1_0",
    ],
)
def test_parse_share_refuses(text: str) -> None:
    with pytest.raises(InvalidParameterError, match=r"^--shrinkage must be a share") as err:
        parse_share(text, name="--shrinkage", allow_zero=True)
    assert err.value.name == "--shrinkage"
    assert err.value.value == text


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("80%", 0.8),
        ("0.8", 0.8),
        ("80", 0.8),
        (0.8, 0.8),
        (80, 0.8),
        ("99.5%", 0.995),
        (" 30 % ", 0.3),
        ("0.5%", 0.005),
    ],
)
def test_one_rule_for_shares(text: str | float, share: float) -> None:
    assert parse_share(text) == pytest.approx(share)


@given(st.floats(min_value=0.01, max_value=99.99))
@settings(max_examples=60, deadline=None)
def test_share_percent_and_fraction_agree(pct: float) -> None:
    """ "p%" and the fraction p/100 are the same share, for every p in range."""
    assert parse_share(f"{pct!r}%") == pytest.approx(parse_share(repr(pct / 100.0)))


@given(
    st.floats(min_value=100.0, max_value=1e6)
    | st.floats(max_value=-1e-9)
    | st.sampled_from([math.nan, math.inf, -math.inf])
)
@settings(max_examples=60, deadline=None)
def test_share_percent_out_of_range_is_refused(pct: float) -> None:
    with pytest.raises(InvalidParameterError):
        parse_share(f"{pct!r}%", name="--max-occupancy")


@given(
    st.text(max_size=20)
    | st.none()
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.lists(st.integers(), max_size=3)
)
@settings(max_examples=60, deadline=None)
def test_parsers_never_raise_anything_else(junk: object) -> None:
    """Whatever comes in, the parsers answer or raise InvalidParameterError, and a
    duration they answer is finite and >= 0, a share in [0, 1)."""
    for call in (
        lambda: parse_duration(junk, name="--aht"),  # type: ignore[arg-type]
        lambda: parse_share(junk, name="--shrinkage", allow_zero=True),  # type: ignore[arg-type]
        lambda: parse_target(junk, name="--target"),  # type: ignore[arg-type]
        lambda: check_timezone(junk, name="--timezone"),
    ):
        try:
            out = call()
        except InvalidParameterError:
            continue
        if isinstance(out, float):
            assert math.isfinite(out)
            assert out >= 0
        if isinstance(out, tuple):
            assert 0 < out[0] < 1
            assert math.isfinite(out[1])


@pytest.mark.parametrize(
    ("text", "guess"),
    [
        ("Jerusalem", "Asia/Jerusalem"),
        ("asia/jerusalem", "Asia/Jerusalem"),
        ("new york", "America/New_York"),
        ("Europe/Londn", "Europe/London"),
        ("utc", "UTC"),
        ("Jerusalm", "Asia/Jerusalem"),
    ],
)
def test_timezone_suggests_the_iana_name(text: str, guess: str) -> None:
    with pytest.raises(InvalidParameterError, match=f"Did you mean [^?]*{guess}") as err:
        check_timezone(text, name="--timezone")
    assert str(err.value).startswith("--timezone must be an IANA time zone")


def test_timezone_accepts_iana_names() -> None:
    assert check_timezone("Asia/Jerusalem") == "Asia/Jerusalem"
    assert check_timezone("UTC") == "UTC"
    for bad in ("", "../../etc/passwd", "Asia", "Not/AZone", " UTC", "x" * 500):
        with pytest.raises(InvalidParameterError):
            check_timezone(bad)


@pytest.mark.parametrize(
    "text",
    ["1e400s", "9" * 400, 1e400, -1, math.nan, "3 parsecs", "5 minutes ago", None, True, [1]],
)
def test_duration_refuses_infinite_negative_and_junk(text: object) -> None:
    with pytest.raises(InvalidParameterError, match=r"^--aht must be"):
        parse_duration(text, name="--aht")  # type: ignore[arg-type]


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
