"""The plan as one self-contained HTML page: charts inline as SVG, no CDN, readable offline."""

from __future__ import annotations

import html
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from contactops import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from contactops.plan._plan import PlanResult

__all__ = ["write_report"]

MAX_CHARTED = 12  # queues charted (largest first); the tables list them all

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1d2733;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #d5dbe1;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.9rem;margin:.6rem 0;display:block;overflow-x:auto}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e8ec;text-align:right}
th:first-child,td:first-child{text-align:left}
.risk{color:#b42318;font-weight:600}.ok{color:#067647}.muted{color:#5b6b7b;font-size:.85rem}
figure{margin:.5rem 0 1.5rem 0}svg{max-width:100%;height:auto}
"""


def _svg(fig: object) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    import matplotlib.pyplot as plt  # noqa: PLC0415

    plt.close(fig)  # type: ignore[arg-type]
    text = buf.getvalue()
    return text[text.find("<svg") :]


def _charts(result: PlanResult, queue: str) -> str:
    import matplotlib as mpl  # noqa: PLC0415

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    t = result.table[result.table["queue"] == queue]
    h = result.history[result.history["unique_id"] == queue]
    h = h[pd.to_datetime(h["ds"]) >= pd.Timestamp(result.start) - pd.Timedelta(days=14)]
    x = pd.to_datetime(t["interval_start"])
    fig, axes = plt.subplots(3, 1, figsize=(11, 8.2), sharex=False)
    ax = axes[0]
    ax.plot(pd.to_datetime(h["ds"]), h["y"], color="#5b6b7b", lw=0.8, label="history")
    ax.plot(x, t["forecast"], color="#1f6feb", lw=1.0, label="forecast")
    ax.fill_between(
        x,
        t["forecast_lo"],
        t["forecast_hi"],
        color="#1f6feb",
        alpha=0.2,
        lw=0,
        label="80% interval",
    )
    ax.set_ylabel("contacts / interval")
    ax.set_title(f"{queue}: forecast against the last two weeks", loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax = axes[1]
    ax.step(
        x, t["required"], where="post", color="#b54708", lw=1.0, label="required (with shrinkage)"
    )
    ax.step(x, t["agents"], where="post", color="#067647", lw=1.0, label="on contacts")
    if "scheduled" in t.columns:
        ax.step(x, t["scheduled"], where="post", color="#6941c6", lw=1.0, label="scheduled")
    ax.set_ylabel("agents")
    ax.set_title("requirement per interval", loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax = axes[2]
    if result.simulated and t["sim_sl"].notna().any():
        ax.plot(x, t["sim_sl"], color="#1d2733", lw=0.8, label="simulated")
        ax.fill_between(
            x,
            t["sim_sl_lo"].clip(0, 1),
            t["sim_sl_hi"].clip(0, 1),
            color="#1d2733",
            alpha=0.15,
            lw=0,
            label="95% interval",
        )
        risk = t["at_risk"].to_numpy(bool)
        if risk.any():
            ax.scatter(x[risk], t["sim_sl"][risk], color="#b42318", s=10, zorder=3, label="at risk")
    if t["model_sl"].notna().any():
        ax.plot(x, t["model_sl"], color="#1f6feb", lw=0.8, ls="--", label="queueing model")
    ax.axhline(float(t["target_sl"].iloc[0]), color="#b54708", lw=0.8, ls=":", label="target")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("service level")
    ax.set_title("expected service level per interval", loc="left", fontsize=10)
    ax.legend(loc="lower left", fontsize=8, ncol=5)
    fig.tight_layout()
    return _svg(fig)


def _table(frame: pd.DataFrame, formats: dict[str, str]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = row[c]
            if isinstance(v, float | np.floating):
                text = "" if not np.isfinite(v) else formats.get(c, "{:,.2f}").format(v)
            else:
                text = str(v)
            cls = ' class="risk"' if c == "at_risk_intervals" and v else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_report(result: PlanResult, path: Path) -> Path:
    """Write the HTML report of ``result`` to ``path``."""
    summary = result.summary()
    pct = "{:.1%}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>contactops plan from {result.start}</title><style>{_CSS}</style></head><body>",
        f"<h1>Plan: {result.days} days from {result.start}</h1>",
        f"<p class='muted'>contactops {__version__}, made "
        f"{datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC. {result.interval_minutes}-minute "
        f"intervals, local time; shrinkage {result.shrinkage:.0%}. Required agents come "
        "from the queueing models (Erlang A for voice with the patience measured in the "
        "history, Chat for chat, backlog for email);"
        + (
            " the staffing was then simulated and an interval is <span class='risk'>at "
            "risk</span> when its whole 95% interval lies below the target."
            if result.simulated
            else " no simulation check was run."
        )
        + "</p>",
        "<h2>Summary</h2>",
        _table(
            summary,
            {
                "forecast": "{:,.0f}",
                "aht": "{:,.0f}",
                "required_hours": "{:,.1f}",
                "peak_required": "{:,.0f}",
                "target_sl": pct,
                "model_sl": pct,
                "sim_sl": pct,
                "scheduled_hours": "{:,.1f}",
                "short_hours": "{:,.1f}",
                "over_hours": "{:,.1f}",
            },
        ),
    ]
    if result.schedule is not None:
        s = result.schedule
        parts += [
            "<h2>Schedule</h2>",
            (
                f"<p>{s.shift_count:,} shifts, {s.paid_hours:,.1f} paid hours; "
                f"{s.short_total:,.1f} agent-intervals short and {s.over_total:,.1f} over "
                "the requirement. Lower bound of the cost (linear relaxation) "
                f"{s.lower_bound:,.1f}, gap {100 * s.gap:.2f}%. The requirement charts "
                "below show the scheduled coverage, breaks included.</p>"
            ),
        ]
    if result.simulated:
        risky = result.table[result.table["at_risk"]]
        if len(risky):
            show = risky[
                [
                    "queue",
                    "interval_start",
                    "forecast",
                    "agents",
                    "sim_sl",
                    "sim_sl_lo",
                    "sim_sl_hi",
                    "target_sl",
                ]
            ].head(40)
            parts += [
                f"<h2 class='risk'>Intervals at risk ({len(risky)})</h2>",
                _table(
                    show.astype({"interval_start": str}),
                    {
                        "forecast": "{:,.1f}",
                        "agents": "{:,.0f}",
                        "sim_sl": pct,
                        "sim_sl_lo": pct,
                        "sim_sl_hi": pct,
                        "target_sl": pct,
                    },
                ),
            ]
        else:
            parts.append(
                "<p class='ok'>No interval at risk: every simulated interval's "
                "95% interval reaches the target.</p>"
            )
    parts.append("<h2>Queues: what the history says</h2>")
    q = result.queues.copy()
    parts.append(
        _table(
            q,
            {
                "aht": "{:,.0f}",
                "aht_cv": "{:.2f}",
                "patience": "{:,.0f}",
                "containment": pct,
                "offered": "{:,.0f}",
                "abandoned": "{:,.0f}",
            },
        )
    )
    if len(result.accuracy):
        acc = result.accuracy.pivot_table(index="unique_id", columns="method", values="wape")
        acc.columns = [f"WAPE {c}" for c in acc.columns]
        acc = acc.reset_index().rename(columns={"unique_id": "queue"})
        parts += [
            "<h2>Forecast accuracy (rolling-origin backtest, WAPE)</h2>",
            (
                "<p class='muted'>Each queue's method is the one with the lowest WAPE over "
                "the last weeks of history, each forecast from the weeks before it.</p>"
            ),
            _table(acc, dict.fromkeys(acc.columns, pct)),
        ]
    if result.notes:
        parts += ["<h2>Notes</h2><ul>"]
        parts += [f"<li>{html.escape(n)}</li>" for n in result.notes]
        parts.append("</ul>")
    order = summary.sort_values("forecast", ascending=False)["queue"].tolist()
    parts.append("<h2>Per queue</h2>")
    if len(order) > MAX_CHARTED:
        parts.append(f"<p class='muted'>The {MAX_CHARTED} largest of {len(order)} queues.</p>")
    for queue in order[:MAX_CHARTED]:
        parts += [f"<h3>{html.escape(queue)}</h3><figure>", _charts(result, queue), "</figure>"]
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
