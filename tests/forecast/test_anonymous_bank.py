"""The forecaster on the real Anonymous Bank call log (January and February 1999)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from contactops.data import Warehouse
from contactops.forecast import VolumeForecaster
from contactops.metrics import interval_history
from tests.conftest import shared_file

if TYPE_CHECKING:
    import pandas as pd

FILES = (
    "data/anonymous-bank-1999/january.txt",
    "data/anonymous-bank-1999/data_anonymous_bank_february.txt",
)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    paths = [shared_file(f) for f in FILES]
    with Warehouse(":memory:") as wh:
        for p in paths:
            wh.ingest(p, format="anonymous-bank")
        return interval_history(wh, interval_minutes=60, timezone="Asia/Jerusalem").to_pandas()


def test_real_history_forecast(history: pd.DataFrame) -> None:
    ps = history[history["unique_id"] == "PS"]
    f = VolumeForecaster(60, methods=("seasonal_naive", "wfm"), holidays="IL").fit(ps)
    # the export has no calls at all on Monday 11 and Tuesday 12 January: a gap, said
    assert "1999-01-11, 1999-01-12" in f.notes_["PS"]
    pred = f.predict(7)
    assert pred["ds"].min() == np.datetime64("1999-03-01T00:00")
    daily = pred.groupby(pred["ds"].dt.dayofweek)["y_hat"].sum()
    # Saturday (5) is the quietest day and Sunday (6), the first working day, is busy
    assert daily.idxmin() == 5
    assert daily[6] > 3 * daily[5]
    hours = pred.groupby(pred["ds"].dt.hour)["y_hat"].sum()
    assert (hours.loc[[1, 2, 3, 4]] == 0).all()  # closed at night
    acc = VolumeForecaster(60, methods=("seasonal_naive", "wfm"), holidays="IL").backtest(
        ps, n_windows=2
    )
    wape = acc[acc["horizon"] == "all"].set_index("method")["wape"]
    assert wape["wfm"] < wape["seasonal_naive"]
    assert wape["selected"] <= wape.max()
