"""Forecasting contact volume and handle time per queue and interval.

``VolumeForecaster(interval="30min").fit(history).predict(7)`` takes a long
frame (``unique_id``, ``ds``, ``y``; e.g. ``interval_history(warehouse)``)
and returns the forecast with prediction intervals; ``.backtest(history)``
returns WAPE, MASE and bias per queue, method and horizon day.
"""

from contactops.forecast._calendar import Event, HolidayCalendar
from contactops.forecast._forecaster import (
    DEFAULT_METHODS,
    HandleTimeForecaster,
    VolumeForecaster,
    horizon_days,
)
from contactops.forecast._history import interval_minutes
from contactops.forecast._methods import METHODS, intraday_profile

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "Event",
    "HandleTimeForecaster",
    "HolidayCalendar",
    "VolumeForecaster",
    "horizon_days",
    "interval_minutes",
    "intraday_profile",
]
