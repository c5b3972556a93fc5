"""VolumeForecaster and HandleTimeForecaster on series whose truth is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contactops.errors import InvalidParameterError
from contactops.forecast import Event, HandleTimeForecaster, VolumeForecaster

P = 48  # 30-minute intervals


def truth(start: str, days: int, *, scale: float = 40.0) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Expected contacts: open 08:00-20:00, a midday peak, weekends at half."""
    ds = pd.date_range(start, periods=days * P, freq="30min")
    tod = np.arange(days * P) % P
    weekday = ds.weekday.to_numpy()
    shape = np.where((tod >= 16) & (tod < 40), np.sin(np.pi * (tod - 15.5) / 24), 0.0)
    lam = scale * shape * np.where(weekday < 5, 1.0, 0.5) + np.where(shape > 0, 2.0, 0.0)
    return ds, lam


def frame(ds: pd.DatetimeIndex, y: np.ndarray, uid: str = "q") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.asarray(y, float)})


def daily(pred: pd.DataFrame, col: str = "y_hat") -> pd.Series:
    return pred.groupby(pred["ds"].dt.date)[col].sum()


def test_seasonality_and_declared_event_recovered() -> None:
    rng = np.random.default_rng(7)
    ds, lam = truth("2026-09-07", 56)
    hist_event = (ds >= pd.Timestamp("2026-10-14")) & (ds < pd.Timestamp("2026-10-15"))
    y = rng.poisson(np.where(hist_event, 2.0 * lam, lam))
    events = [
        Event("billing run", "2026-10-14", "2026-10-15", 2.0),
        Event("launch", "2026-11-04", "2026-11-05", 1.5),
    ]
    f = VolumeForecaster("30min", methods=("wfm", "seasonal_naive"), events=events)
    pred = f.fit(frame(ds, y)).predict(7)
    fut_ds, fut_lam = truth("2026-11-02", 7)
    assert pred["ds"].iloc[0] == fut_ds[0]
    expected = pd.Series(fut_lam, index=fut_ds).groupby(fut_ds.date).sum()
    expected[pd.Timestamp("2026-11-04").date()] *= 1.5
    got = daily(pred)
    # every day within 6% of the truth, the launch day at 1.5x included
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0.06)
    # the intraday shape too: Monday's intervals within 10% (WAPE) of the truth
    monday = pred[pred["ds"].dt.date == fut_ds[0].date()]["y_hat"].to_numpy()
    assert np.abs(monday - fut_lam[:P]).sum() / fut_lam[:P].sum() < 0.10


def test_history_event_is_divided_out() -> None:
    ds, lam = truth("2026-09-07", 56)
    spike = (ds >= pd.Timestamp("2026-10-26")) & (ds < pd.Timestamp("2026-10-27"))  # a Monday
    y = np.where(spike, 3.0 * lam, lam)
    with_event = (
        VolumeForecaster(
            methods=("seasonal_naive",), events=[Event("outage", "2026-10-26", "2026-10-27", 3.0)]
        )
        .fit(frame(ds, y))
        .predict(7)
    )
    without = VolumeForecaster(methods=("seasonal_naive",)).fit(frame(ds, y)).predict(7)
    monday = pd.Timestamp("2026-11-02").date()
    # the spike one week back inflates the naive forecast only when not declared
    assert daily(without)[monday] == pytest.approx(3.0 * lam[:P].sum(), rel=1e-9)
    assert daily(with_event)[monday] == pytest.approx(lam[:P].sum(), rel=1e-9)


def test_holidays_forecast_low() -> None:
    # Thanksgiving (Thu 26 Nov 2026) in the history at 30% of a normal day; Christmas
    # (Fri 25 Dec 2026) in the forecast week
    ds, lam = truth("2026-11-16", 35)  # after Veterans Day, which a center may work
    thanks = (ds >= pd.Timestamp("2026-11-26")) & (ds < pd.Timestamp("2026-11-27"))
    y = np.where(thanks, 0.3 * lam, lam)
    f = VolumeForecaster(methods=("wfm",), holidays="US").fit(frame(ds, y))
    got = daily(f.predict(7))
    christmas, friday_before = pd.Timestamp("2026-12-25").date(), pd.Timestamp("2026-12-18")
    normal_friday = lam[(ds.date == friday_before.date())].sum()
    assert got[christmas] == pytest.approx(0.3 * normal_friday, rel=0.1)
    # the other days are not pulled down by the holiday in the history
    assert got[pd.Timestamp("2026-12-24").date()] == pytest.approx(
        lam[ds.date == pd.Timestamp("2026-12-17").date()].sum(), rel=0.06
    )


def test_holiday_without_history_is_forecast_like_a_sunday() -> None:
    ds, lam = truth("2026-10-05", 35)  # no US holiday in the history... but Columbus Day
    f = VolumeForecaster(
        methods=("seasonal_naive",),
        holidays=["2026-11-11"],
    ).fit(frame(ds, lam))
    got = daily(f.predict(7))
    wednesday = got[pd.Timestamp("2026-11-11").date()]
    sunday = got[pd.Timestamp("2026-11-15").date()]
    assert wednesday == pytest.approx(sunday, rel=1e-9)
    assert wednesday < 0.6 * got[pd.Timestamp("2026-11-12").date()]


@pytest.mark.parametrize("method", ["seasonal_naive", "wfm", "mstl", "autoets"])
def test_closed_hours_forecast_zero(method: str) -> None:
    rng = np.random.default_rng(1)
    ds, lam = truth("2026-09-07", 28)
    pred = VolumeForecaster(methods=(method,)).fit(frame(ds, rng.poisson(lam))).predict(7)
    tod = (pred["ds"].dt.hour * 2 + pred["ds"].dt.minute // 30).to_numpy()
    closed = (tod < 16) | (tod >= 40)
    for col in ("y_hat", "y_hat_lo_80", "y_hat_hi_80", "y_hat_lo_95", "y_hat_hi_95"):
        assert (pred.loc[closed, col] == 0).all(), col
    assert pred.loc[~closed, "y_hat"].mean() > 5
    assert (pred["y_hat_lo_95"] <= pred["y_hat_lo_80"]).all()
    assert (pred["y_hat_lo_80"] <= pred["y_hat"]).all()
    assert (pred["y_hat"] <= pred["y_hat_hi_80"]).all()
    assert (pred["y_hat_hi_80"] <= pred["y_hat_hi_95"]).all()


def test_backtest_scores_match_a_hand_computation() -> None:
    rng = np.random.default_rng(3)
    ds, lam = truth("2026-09-07", 35)
    y = rng.poisson(lam).astype(float)
    f = VolumeForecaster(methods=("seasonal_naive", "wfm"))
    acc = f.backtest(frame(ds, y), n_windows=2, horizon=7)
    assert set(acc["method"]) == {"seasonal_naive", "wfm", "selected"}
    assert set(acc["horizon"]) == {"all"} | {f"day {k}" for k in range(1, 8)}
    # seasonal naive, last window: the forecast is the week before it
    Y = y.reshape(35, P)
    fc, actual = Y[21:28], Y[28:35]
    acc_all = acc
    row = acc_all[(acc_all["method"] == "seasonal_naive") & (acc_all["horizon"] == "day 3")]
    both = np.abs(Y[14:21] - Y[21:28])[2].sum() + np.abs(fc - actual)[2].sum()
    assert row["wape"].iloc[0] == pytest.approx(
        both / (Y[21, :].sum() * 0 + Y[23].sum() + Y[30].sum())
    )
    bias = ((fc - actual).sum() + (Y[14:21] - Y[21:28]).sum()) / Y[21:35].sum()
    sn_all = acc_all[(acc_all["method"] == "seasonal_naive") & (acc_all["horizon"] == "all")]
    assert sn_all["bias"].iloc[0] == pytest.approx(bias)
    # the honest selection is what fit() picks on the history before each window
    sel = acc[(acc["method"] == "selected") & (acc["horizon"] == "all")]
    assert sel["windows"].iloc[0] == 2
    picks = [
        VolumeForecaster(methods=("seasonal_naive", "wfm"))
        .fit(frame(ds[: o * P], y[: o * P]))
        .selected_["q"]
        for o in (21, 28)
    ]
    by = acc[acc["horizon"] == "all"].set_index("method")
    if picks[0] == picks[1]:
        assert sel["wape"].iloc[0] == pytest.approx(by.loc[picks[0], "wape"])


def test_periodic_series_seasonal_naive_is_exact() -> None:
    ds, lam = truth("2026-09-07", 28)
    acc = VolumeForecaster(methods=("seasonal_naive",)).backtest(frame(ds, lam), n_windows=2)
    assert (acc["wape"] == 0).all()


def test_selection_prefers_the_method_that_fits() -> None:
    # a strong weekly pattern with no noise: seasonal naive is exact, and chosen
    ds, lam = truth("2026-09-07", 42)
    f = VolumeForecaster(methods=("wfm", "seasonal_naive")).fit(frame(ds, lam))
    assert f.selected_ == {"q": "seasonal_naive"}
    assert set(f.selection_["method"]) == {"wfm", "seasonal_naive"}


def test_several_series_and_start_date() -> None:
    ds, lam = truth("2026-09-07", 21)
    hist = pd.concat([frame(ds, lam, "a"), frame(ds, 2 * lam, "b")])
    pred = VolumeForecaster(methods=("seasonal_naive",)).fit(hist).predict(2, start="2026-10-01")
    assert set(pred["unique_id"]) == {"a", "b"}
    assert pred["ds"].min() == pd.Timestamp("2026-10-01")
    assert len(pred) == 2 * 2 * P
    a, b = (pred[pred["unique_id"] == u]["y_hat"].to_numpy() for u in "ab")
    np.testing.assert_allclose(b, 2 * a)


# -- bad history ---------------------------------------------------------------------------
def test_duplicated_intervals_are_an_error() -> None:
    ds, lam = truth("2026-09-07", 14)
    hist = frame(ds, lam)
    with pytest.raises(InvalidParameterError, match="one row per unique_id and interval"):
        VolumeForecaster().fit(pd.concat([hist, hist.iloc[[100]]]))


def test_negative_counts_are_an_error() -> None:
    ds, lam = truth("2026-09-07", 14)
    lam[30] = -1
    with pytest.raises(InvalidParameterError, match=r"history\.y must be >= 0"):
        VolumeForecaster().fit(frame(ds, lam))


def test_gaps_are_an_error_unless_filled() -> None:
    ds, lam = truth("2026-09-07", 21)
    hist = frame(ds, lam).drop(index=[500, 501])
    with pytest.raises(InvalidParameterError, match="fill_missing=0"):
        VolumeForecaster(methods=("seasonal_naive",)).fit(hist)
    pred = VolumeForecaster(methods=("seasonal_naive",), fill_missing=0).fit(hist).predict(1)
    assert len(pred) == P


def test_off_grid_and_tz_aware_stamps_are_errors() -> None:
    ds, lam = truth("2026-09-07", 14)
    with pytest.raises(InvalidParameterError, match="30-minute grid"):
        VolumeForecaster().fit(frame(ds + pd.Timedelta(minutes=7), lam))
    with pytest.raises(InvalidParameterError, match="naive local times"):
        VolumeForecaster().fit(frame(ds.tz_localize("UTC"), lam))
    with pytest.raises(InvalidParameterError, match="15, 30 or 60 minutes"):
        VolumeForecaster("20min").fit(frame(ds, lam))
    with pytest.raises(InvalidParameterError, match="methods"):
        VolumeForecaster(methods=("prophet",)).fit(frame(ds, lam))


def test_too_short_for_the_weekly_season_falls_back_and_says_so() -> None:
    ds, lam = truth("2026-09-07", 5)
    f = VolumeForecaster().fit(frame(ds, lam))
    assert "too short" in f.notes_["q"]
    assert f.selected_["q"] == "wfm"
    pred = f.predict(2)
    assert len(pred) == 2 * P
    assert pred["y_hat"].sum() > 0


def test_predict_before_fit_is_an_error() -> None:
    with pytest.raises(InvalidParameterError, match="fitted first"):
        VolumeForecaster().predict(7)


# -- handle time ---------------------------------------------------------------------------
def test_handle_time_profile_recovered() -> None:
    rng = np.random.default_rng(5)
    ds, lam = truth("2026-09-07", 42)
    tod = np.arange(ds.size) % P
    true_aht = 240.0 + 4.0 * (tod - 16)  # rises through the day
    n = rng.poisson(lam)
    mean_aht = np.where(
        n > 0, rng.gamma(np.maximum(n, 1) * 4.0, true_aht / (4.0 * np.maximum(n, 1))), np.nan
    )  # the mean of n gamma handle times (cv 0.5)
    hist = frame(ds, n).assign(aht=mean_aht)
    pred = HandleTimeForecaster().fit(hist).predict(7)
    # (the thin first and last hours are shrunk towards the queue's mean, by design)
    open_ = (pred["ds"].dt.hour >= 10) & (pred["ds"].dt.hour < 18)
    expected = 240.0 + 4.0 * ((pred["ds"].dt.hour * 2 + pred["ds"].dt.minute // 30) - 16)
    np.testing.assert_allclose(pred.loc[open_, "aht_hat"], expected[open_], rtol=0.06)


def test_processes_give_the_same_forecast() -> None:
    rng = np.random.default_rng(9)
    ds, lam = truth("2026-09-07", 28)
    hist = pd.concat([frame(ds, rng.poisson(lam * (1 + k / 4)), f"q{k}") for k in range(5)])
    one = VolumeForecaster(methods=("seasonal_naive", "wfm"), n_jobs=1).fit(hist)
    two = VolumeForecaster(methods=("seasonal_naive", "wfm"), n_jobs=2).fit(hist)
    assert one.selected_ == two.selected_
    pd.testing.assert_frame_equal(one.selection_, two.selection_)
    pd.testing.assert_frame_equal(one.predict(7), two.predict(7))


def test_a_day_missing_from_the_export_is_not_demand() -> None:
    ds, lam = truth("2026-09-07", 28)
    gap = (ds >= pd.Timestamp("2026-09-28")) & (ds < pd.Timestamp("2026-09-29"))  # a Monday
    y = np.where(gap, 0.0, lam)
    f = VolumeForecaster(methods=("seasonal_naive",)).fit(frame(ds, y))
    assert "missing data: 2026-09-28" in f.notes_["q"]
    got = daily(f.predict(7))
    assert got[pd.Timestamp("2026-10-05").date()] == pytest.approx(lam[:P].sum())


def test_combined_is_the_mean_of_its_models() -> None:
    rng = np.random.default_rng(4)
    ds, lam = truth("2026-09-07", 28)
    f = VolumeForecaster(methods=("wfm", "autoets", "combined")).fit(frame(ds, rng.poisson(lam)))
    prep = f.prepared_["q"]
    parts = [f._forecast(prep, m, 7)[0] for m in ("wfm", "autoets")]
    np.testing.assert_allclose(f._forecast(prep, "combined", 7)[0], np.mean(parts, axis=0))
    with pytest.raises(InvalidParameterError, match="at least two of"):
        VolumeForecaster(methods=("wfm", "seasonal_naive", "combined")).fit(frame(ds, lam))


def test_thin_weekday_profiles_borrow_the_week_shape() -> None:
    from contactops.forecast import intraday_profile

    rng = np.random.default_rng(2)
    shape = np.r_[np.zeros(16), np.hanning(24), np.zeros(8)]
    shape /= shape.sum()
    weekdays = np.arange(28) % 7
    thin = rng.poisson(np.outer(np.full(28, 30.0), shape)).astype(float)
    busy = rng.poisson(np.outer(np.full(28, 30_000.0), shape)).astype(float)
    err_thin = np.abs(intraday_profile(thin, weekdays) - shape).sum(axis=1).mean()
    err_raw = np.abs(intraday_profile(thin, weekdays, prior=0.0) - shape).sum(axis=1).mean()
    assert err_thin < 0.7 * err_raw  # pooling removes much of the noise of thin days
    for prof in (intraday_profile(thin, weekdays), intraday_profile(busy, weekdays)):
        np.testing.assert_allclose(prof.sum(axis=1), 1.0)
    assert np.abs(intraday_profile(busy, weekdays) - shape).sum(axis=1).max() < 0.02
