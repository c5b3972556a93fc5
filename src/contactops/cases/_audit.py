"""Per-transition audit figures from case histories and clocks.

- transitions: for each handoff ``from -> to`` (``(new)`` for intake), how many
  there were and how many of the clocks they started breached;
- holding: how long each department holds a case (wall-clock and business
  seconds, from entering to leaving, resolving or closing);
- loops: cases that came back to a department they had already handed away
  (A -> B -> A), counted per pair, and reassignments within departments.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from contactops.cases._case import Case
    from contactops.cases._engine import CaseEngine

__all__ = ["AuditReport", "HoldingFigures", "LoopFigures", "TransitionFigures", "audit"]

INTAKE = "(new)"


@dataclass(frozen=True)
class TransitionFigures:
    """One handoff route: how often it was taken and how often its clocks breached."""

    from_department: str
    to_department: str
    handoffs: int
    response_breaches: int
    resolution_breaches: int
    breached: int

    @property
    def breach_share(self) -> float:
        """Share of these handoffs with at least one breached clock."""
        return self.breached / self.handoffs if self.handoffs else 0.0


@dataclass(frozen=True)
class HoldingFigures:
    """How long a department holds a case, per holding (seconds)."""

    department: str
    holds: int
    mean_s: float
    median_s: float
    p90_s: float
    mean_business_s: float
    reassignments: int


@dataclass(frozen=True)
class LoopFigures:
    """Returns to a department after handing the case away, for one pair of departments."""

    departments: tuple[str, str]
    returns: int
    cases: int


@dataclass(frozen=True)
class AuditReport:
    """All figures; lists are sorted worst first."""

    cases: int
    transitions: tuple[TransitionFigures, ...]
    holding: tuple[HoldingFigures, ...]
    loops: tuple[LoopFigures, ...]
    cases_with_loops: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "cases": self.cases,
            "cases_with_loops": self.cases_with_loops,
            "transitions": [
                {**t.__dict__, "breach_share": round(t.breach_share, 4)} for t in self.transitions
            ],
            "holding": [h.__dict__ for h in self.holding],
            "loops": [
                {"departments": list(lp.departments), "returns": lp.returns, "cases": lp.cases}
                for lp in self.loops
            ],
        }


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def audit(cases: Iterable[Case], engine: CaseEngine, at: datetime) -> AuditReport:
    """Figures over ``cases`` (with their events), open holdings counted up to ``at``."""
    counts: Counter[tuple[str, str]] = Counter()
    resp: Counter[tuple[str, str]] = Counter()
    reso: Counter[tuple[str, str]] = Counter()
    breached: Counter[tuple[str, str]] = Counter()
    wall: dict[str, list[float]] = defaultdict(list)
    business: dict[str, list[float]] = defaultdict(list)
    reassign: Counter[str] = Counter()
    loop_returns: Counter[tuple[str, str]] = Counter()
    loop_cases: Counter[tuple[str, str]] = Counter()
    n = 0
    with_loops = 0
    for case in cases:
        n += 1
        # handoffs and the clocks each started
        started: dict[tuple[str, str, datetime], list[Any]] = defaultdict(list)
        for clock in case.clocks:
            if clock.kind != "case":
                started[(clock.handoff_from or INTAKE, clock.department, clock.started_at)].append(
                    clock
                )
        for (src, dst, _t), clocks in started.items():
            key = (src, dst)
            counts[key] += 1
            resp[key] += any(c.kind == "response" and c.breached_at for c in clocks)
            reso[key] += any(c.kind == "resolution" and c.breached_at for c in clocks)
            breached[key] += any(c.breached_at for c in clocks)
        # holdings and loops from the history
        sequence: list[str] = []
        holder: str | None = None
        since: datetime | None = None

        def close(until: datetime, holder: str | None, since: datetime | None) -> None:
            if holder is None or since is None:
                return
            wall[holder].append((until - since).total_seconds())
            business[holder].append(engine.department(holder).calendar.between(since, until))

        for event in case.events:
            if event.kind == "opened":
                holder, since = event.data["department"], event.at
                sequence.append(holder)
            elif event.kind == "handoff":
                close(event.at, holder, since)
                holder, since = event.data["to_department"], event.at
                sequence.append(holder)
            elif event.kind in ("resolved", "closed"):
                close(event.at, holder, since)
                since = None
            elif event.kind == "reopened":
                since = event.at
            elif event.kind == "assigned":
                reassign[event.data.get("department") or case.department] += 1
        close(at, holder, since)
        seen: set[tuple[str, str]] = set()
        for i, dept in enumerate(sequence):
            if dept in sequence[: i - 1] and i >= 2:
                pair = tuple(sorted((dept, sequence[i - 1])))
                loop_returns[pair] += 1  # type: ignore[index]
                seen.add(pair)  # type: ignore[arg-type]
        for pair in seen:
            loop_cases[pair] += 1
        with_loops += bool(seen)
    transitions = sorted(
        (
            TransitionFigures(s, d, counts[(s, d)], resp[(s, d)], reso[(s, d)], breached[(s, d)])
            for s, d in counts
        ),
        key=lambda t: (-t.breach_share, -t.handoffs, t.from_department, t.to_department),
    )
    holding = sorted(
        (
            HoldingFigures(
                d,
                len(v),
                statistics.fmean(v),
                statistics.median(v),
                _p90(v),
                statistics.fmean(business[d]),
                reassign[d],
            )
            for d, v in wall.items()
            if v
        ),
        key=lambda h: (-h.mean_business_s, h.department),
    )
    loops = sorted(
        (LoopFigures(p, loop_returns[p], loop_cases[p]) for p in loop_returns),
        key=lambda lp: (-lp.returns, lp.departments),
    )
    return AuditReport(n, tuple(transitions), tuple(holding), tuple(loops), with_loops)
