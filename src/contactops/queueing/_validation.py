"""Parameter checks for the queueing models: limits declared once, one message format."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from contactops.errors import InvalidParameterError

FloatArray = NDArray[np.float64]


def _describe(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def as_array(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    allow_inf: bool = False,
    fix: str = "",
) -> FloatArray:
    """Convert ``value`` to a float array and check every element is in range.

    The error names the parameter (with the index of the first bad element for
    arrays), the value received and the allowed range.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(name, value, "a number or an array of numbers", fix) from None
    lo_sym = "[" if low_inclusive else "("
    hi_sym = "]" if high_inclusive and not math.isinf(high) else ")"
    hi_txt = "inf" if math.isinf(high) else f"{high:g}"
    rule = f"in {lo_sym}{low:g}, {hi_txt}{hi_sym}"
    if not allow_inf:
        rule = "finite and " + rule
    bad = np.isnan(arr)
    if not allow_inf:
        bad |= np.isinf(arr)
    with np.errstate(invalid="ignore"):
        bad |= (arr < low) if low_inclusive else (arr <= low)
        bad |= (arr > high) if high_inclusive else (arr >= high)
    if bad.any():
        if arr.ndim == 0:
            raise InvalidParameterError(name, _describe(arr[()]), rule, fix)
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        label = f"{name}[{', '.join(map(str, idx))}]"
        raise InvalidParameterError(label, _describe(arr[idx]), rule, fix)
    return arr


def broadcast(**arrays: FloatArray) -> tuple[tuple[int, ...], dict[str, FloatArray]]:
    """Broadcast named arrays together, naming them when their shapes do not fit."""
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in arrays.items())
        raise InvalidParameterError(
            "shapes",
            shapes,
            "broadcastable together (numpy broadcasting rules)",
            "Give scalars, or arrays of one shape (one value per interval).",
        ) from None
    # contiguous writable arrays: the compiled kernels then see one array type (one
    # signature; numba types a read-only array apart, and broadcast_to's views are)
    return shape, {
        k: np.require(np.broadcast_to(v, shape), np.float64, ("C", "W")).reshape(-1)
        for k, v in arrays.items()
    }


def check_probability(
    name: str, value: Any, *, open_low: bool = True, open_high: bool = True, fix: str = ""
) -> FloatArray:
    """A share strictly (or not) between 0 and 1."""
    return as_array(
        name,
        value,
        low=0.0,
        high=1.0,
        low_inclusive=not open_low,
        high_inclusive=not open_high,
        fix=fix,
    )
