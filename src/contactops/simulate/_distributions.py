"""Distributions of handle times, patience, delays and bot confidence.

A :class:`Distribution` is a plain frozen dataclass; the compiled engine sees
it as one row ``(kind, p1, p2, p3)`` plus, for an empirical distribution, its
sample values.  Constructors take the parameters an analyst knows (mean and
standard deviation), not the ones the sampler needs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.simulate import _engine as e

__all__ = [
    "Beta",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Uniform",
    "parse_distribution",
]

KINDS = ("exponential", "lognormal", "gamma", "empirical", "fixed", "beta", "uniform")


@dataclass(frozen=True)
class Distribution:
    """A non-negative random duration (seconds) or a probability.

    Build one with :func:`Exponential`, :func:`LogNormal`, :func:`Gamma`,
    :func:`Empirical`, :func:`Fixed`, :func:`Beta` or :func:`Uniform`.
    """

    kind: str
    params: tuple[float, ...] = ()
    values: tuple[float, ...] = field(default=(), repr=False)

    @property
    def mean(self) -> float:
        """The distribution's mean."""
        p = self.params
        if self.kind in ("exponential", "fixed", "lognormal", "gamma"):
            return p[0]
        if self.kind == "empirical":
            return float(np.mean(self.values))
        if self.kind == "beta":
            return p[0] / (p[0] + p[1])
        return (p[0] + p[1]) / 2.0  # uniform

    def encode(self) -> tuple[list[float], np.ndarray]:
        """Row ``(kind, p1, p2, p3)`` for the engine, and empirical samples."""
        p = self.params
        if self.kind == "exponential":
            return [e.D_EXPON, p[0], 0.0, 0.0], np.empty(0)
        if self.kind == "lognormal":
            mean, sd = p
            s2 = math.log1p((sd / mean) ** 2)
            return [e.D_LOGNORM, math.log(mean) - s2 / 2.0, math.sqrt(s2), 0.0], np.empty(0)
        if self.kind == "gamma":
            mean, sd = p
            return [e.D_GAMMA, (mean / sd) ** 2, sd * sd / mean, 0.0], np.empty(0)
        if self.kind == "empirical":
            return [e.D_EMPIRICAL, 0.0, 0.0, 0.0], np.asarray(self.values, dtype=float)
        if self.kind == "fixed":
            return [e.D_FIXED, p[0], 0.0, 0.0], np.empty(0)
        if self.kind == "beta":
            return [e.D_BETA, p[0], p[1], 0.0], np.empty(0)
        return [e.D_UNIFORM, p[0], p[1], 0.0], np.empty(0)


def _positive(name: str, value: Any, what: str, *, zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    ok = math.isfinite(x) and (x >= 0.0 if zero else x > 0.0)
    if not ok:
        rule = "a finite number >= 0" if zero else "a finite number > 0"
        raise InvalidParameterError(name, value, rule, f"Give the {what}.")
    return x


def Exponential(mean: float, *, name: str = "mean") -> Distribution:  # noqa: N802  (reads as a type)
    """Exponential with the given mean (seconds)."""
    return Distribution("exponential", (_positive(name, mean, "mean in seconds"),))


def LogNormal(mean: float, sd: float, *, name: str = "") -> Distribution:  # noqa: N802
    """Log-normal with the given mean and standard deviation (of the value, not its log)."""
    pre = f"{name}." if name else ""
    return Distribution(
        "lognormal",
        (
            _positive(pre + "mean", mean, "mean in seconds"),
            _positive(pre + "sd", sd, "standard deviation in seconds"),
        ),
    )


def Gamma(mean: float, sd: float, *, name: str = "") -> Distribution:  # noqa: N802
    """Gamma with the given mean and standard deviation."""
    pre = f"{name}." if name else ""
    return Distribution(
        "gamma",
        (
            _positive(pre + "mean", mean, "mean in seconds"),
            _positive(pre + "sd", sd, "standard deviation in seconds"),
        ),
    )


def Empirical(values: Sequence[float] | np.ndarray, *, name: str = "values") -> Distribution:  # noqa: N802
    """Resample the given observed values (e.g. last month's handle times)."""
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = arr[~np.isfinite(arr) | (arr < 0)][:3].tolist() if arr.size else []
        raise InvalidParameterError(
            name,
            bad or "[]",
            "a non-empty list of finite values >= 0",
            "Remove negative, missing or infinite samples.",
        )
    return Distribution("empirical", (), tuple(arr.tolist()))


def Fixed(value: float, *, name: str = "value") -> Distribution:  # noqa: N802
    """Always the same value."""
    return Distribution("fixed", (_positive(name, value, "value in seconds", zero=True),))


def Beta(a: float, b: float, *, name: str = "") -> Distribution:  # noqa: N802
    """Beta(a, b) on [0, 1]: bot intent confidence."""
    pre = f"{name}." if name else ""
    return Distribution(
        "beta", (_positive(pre + "a", a, "shape a"), _positive(pre + "b", b, "shape b"))
    )


def Uniform(low: float, high: float, *, name: str = "") -> Distribution:  # noqa: N802
    """Uniform on [low, high]."""
    pre = f"{name}." if name else ""
    lo = _positive(pre + "low", low, "lower bound", zero=True)
    hi = _positive(pre + "high", high, "upper bound", zero=True)
    if hi < lo:
        raise InvalidParameterError(pre + "high", high, f">= low ({lo})", "Swap low and high.")
    return Distribution("uniform", (lo, hi))


def parse_distribution(
    obj: Any, path: str, *, allow_none: bool = False, probability: bool = False
) -> Distribution | None:
    """Read a distribution from scenario data.

    A number is an exponential with that mean; ``None`` or ``"none"`` is no
    distribution (only where ``allow_none``); a mapping names ``dist`` and its
    parameters, e.g. ``{dist: lognormal, mean: 300, sd: 150}``.
    """
    if isinstance(obj, Distribution):
        return obj
    if obj is None or (isinstance(obj, str) and obj.strip().lower() == "none"):
        if allow_none:
            return None
        raise InvalidParameterError(
            path, obj, "a distribution", "Give a mean in seconds or {dist: ..., ...}."
        )
    if isinstance(obj, int | float) and not isinstance(obj, bool):
        return Exponential(obj, name=path)
    if isinstance(obj, str):
        from contactops.units import parse_duration  # noqa: PLC0415  (edge parsing only)

        try:
            return Exponential(parse_duration(obj), name=path)
        except ValueError as exc:
            raise InvalidParameterError(
                path, obj, "a duration like '300s' or a mapping", "Give a mean, e.g. 300 or '5m'."
            ) from exc
    if not isinstance(obj, Mapping):
        raise InvalidParameterError(
            path,
            obj,
            "a number or a mapping with 'dist'",
            "e.g. {dist: lognormal, mean: 300, sd: 150}.",
        )
    kind = str(obj.get("dist", "exponential")).lower()
    known = {
        "exponential": ("mean",),
        "lognormal": ("mean", "sd"),
        "gamma": ("mean", "sd"),
        "empirical": ("values",),
        "fixed": ("value",),
        "beta": ("a", "b"),
        "uniform": ("low", "high"),
    }
    if kind not in known:
        raise InvalidParameterError(
            f"{path}.dist", kind, "one of " + ", ".join(known), "Pick a supported distribution."
        )
    extra = set(obj) - {"dist", *known[kind]}
    if extra:
        raise InvalidParameterError(
            f"{path}.{sorted(extra)[0]}",
            obj[sorted(extra)[0]],
            f"a parameter of {kind} ({', '.join(known[kind])})",
            "Remove it or pick another distribution.",
        )
    for key in known[kind]:
        if key not in obj:
            raise InvalidParameterError(
                f"{path}.{key}", None, "given", f"{kind} needs {', '.join(known[kind])}."
            )
    sub = {key: obj[key] for key in known[kind]}
    if kind == "exponential":
        d = Exponential(sub["mean"], name=f"{path}.mean")
    elif kind == "lognormal":
        d = LogNormal(sub["mean"], sub["sd"], name=path)
    elif kind == "gamma":
        d = Gamma(sub["mean"], sub["sd"], name=path)
    elif kind == "empirical":
        d = Empirical(sub["values"], name=f"{path}.values")
    elif kind == "fixed":
        d = Fixed(sub["value"], name=f"{path}.value")
    elif kind == "beta":
        d = Beta(sub["a"], sub["b"], name=path)
    else:
        d = Uniform(sub["low"], sub["high"], name=path)
    if probability and d.kind not in ("beta", "uniform", "fixed", "empirical"):
        raise InvalidParameterError(
            f"{path}.dist",
            kind,
            "beta, uniform, fixed or empirical",
            "A confidence lies in [0, 1].",
        )
    return d


def as_distribution(obj: Any, path: str, *, allow_none: bool = False) -> Distribution | None:
    """A Distribution, a mean (exponential) or None, as the dataclasses accept."""
    return parse_distribution(obj, path, allow_none=allow_none)
