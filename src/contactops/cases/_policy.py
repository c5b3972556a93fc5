"""Priority matrices, SLA targets, escalation ladders and SLA policies.

Priorities are integers, 1 the most urgent. A :class:`PriorityMatrix` maps
(impact, urgency) — or (severity, customer tier), any two labels — to a
priority. An :class:`SlaPolicy` gives the response and resolution targets per
(priority, customer tier), in business seconds of the owning department's
calendar, and the escalation ladder run against every clock it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contactops.errors import InvalidParameterError
from contactops.units import parse_duration

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "ACTIONS",
    "CLOCK_KINDS",
    "DEFAULT_LADDER",
    "EscalationStep",
    "PriorityMatrix",
    "SlaPolicy",
    "SlaTarget",
]

ACTIONS = ("warn", "notify_lead", "raise_priority", "reassign")
CLOCK_KINDS = ("response", "resolution", "case")
ANY_TIER = "*"


@dataclass(frozen=True)
class PriorityMatrix:
    """Priority from two labels: ``table[(impact, urgency)] -> priority`` (1 = most urgent).

    Labels are kept as text, so ``1``, ``"1"`` and ``"1 - High"`` (ServiceNow's
    form, the leading number is used) are the same label.
    """

    table: Mapping[tuple[str, str], int]
    names: tuple[str, str] = ("impact", "urgency")

    def __post_init__(self) -> None:
        if not self.table:
            raise InvalidParameterError(
                "priority_matrix",
                {},
                "a non-empty table",
                "Give at least one (impact, urgency) -> priority.",
            )
        clean: dict[tuple[str, str], int] = {}
        for key, value in self.table.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidParameterError(
                    f"priority_matrix[{key!r}]", value, "an integer >= 1 (1 = most urgent)"
                )
            clean[(_label(key[0]), _label(key[1]))] = value
        object.__setattr__(self, "table", clean)

    @classmethod
    def itil(cls) -> PriorityMatrix:
        """ServiceNow's default 3 x 3 matrix (impact and urgency 1-3, priority 1-4).

        priority = min(impact + urgency - 1, 4): 1/1 Critical, 1/2 and 2/1 High,
        2/2, 1/3 and 3/1 Moderate, the rest Low (the ServiceNow log shows exactly
        these pairs).
        """
        return cls({(str(i), str(u)): min(i + u - 1, 4) for i in (1, 2, 3) for u in (1, 2, 3)})

    @classmethod
    def from_rows(
        cls, rows: Iterable[Mapping[str, Any]], names: tuple[str, str] = ("impact", "urgency")
    ) -> PriorityMatrix:
        """From rows ``{"impact": .., "urgency": .., "priority": ..}`` (or the two ``names``)."""
        table = {}
        for i, row in enumerate(rows):
            try:
                table[(str(row[names[0]]), str(row[names[1]]))] = row["priority"]
            except KeyError as exc:
                raise InvalidParameterError(
                    f"priority_matrix[{i}]",
                    dict(row),
                    f"a row with {names[0]}, {names[1]} and priority",
                    f"Add the missing key {exc}.",
                ) from None
        return cls(table, names)

    def to_rows(self) -> list[dict[str, Any]]:
        """JSON-able rows, the inverse of :meth:`from_rows`."""
        return [
            {self.names[0]: a, self.names[1]: b, "priority": p}
            for (a, b), p in sorted(self.table.items())
        ]

    @property
    def lowest(self) -> int:
        """The least urgent priority in the table."""
        return max(self.table.values())

    def priority(self, impact: object, urgency: object) -> int:
        """The priority of this pair; a clear error naming the known labels otherwise."""
        key = (_label(impact), _label(urgency))
        try:
            return self.table[key]
        except KeyError:
            known = sorted({k[0] for k in self.table}), sorted({k[1] for k in self.table})
            raise InvalidParameterError(
                f"{self.names[0]}/{self.names[1]}",
                (impact, urgency),
                f"a pair in the priority matrix ({self.names[0]} in {known[0]}, "
                f"{self.names[1]} in {known[1]})",
                "Use a known pair or add it to the matrix.",
            ) from None


def _label(value: object) -> str:
    text = str(value).strip()
    return text.split(" ", 1)[0] if " - " in text else text


@dataclass(frozen=True)
class SlaTarget:
    """Targets in business seconds; ``None`` means no such clock."""

    response_s: float | None
    resolution_s: float | None

    def __post_init__(self) -> None:
        for name in ("response_s", "resolution_s"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int | float) and 0 < v < 1e9):
                raise InvalidParameterError(
                    name, v, "a positive number of seconds or None", 'Write e.g. "30m" or 1800.'
                )


@dataclass(frozen=True)
class EscalationStep:
    """At ``share`` of a clock's target, do ``action`` (once per clock).

    ``action`` is ``warn`` (the owner), ``notify_lead`` (the department lead),
    ``raise_priority`` (one level more urgent) or ``reassign`` (to ``to``: a
    user of the department, a department name prefixed ``department:``, or the
    department lead when ``to`` is None). ``clocks`` limits the step to some
    clock kinds (response, resolution, case).
    """

    share: float
    action: str
    to: str | None = None
    clocks: tuple[str, ...] = CLOCK_KINDS

    def __post_init__(self) -> None:
        if not (isinstance(self.share, int | float) and 0 < self.share <= 10):
            raise InvalidParameterError(
                "escalation.share",
                self.share,
                "a share of the target in (0, 10]",
                "Write 0.75 for 75% of the target, 1 for the breach.",
            )
        if self.action not in ACTIONS:
            raise InvalidParameterError(
                "escalation.action", self.action, f"one of {', '.join(ACTIONS)}"
            )
        bad = [c for c in self.clocks if c not in CLOCK_KINDS]
        if bad or not self.clocks:
            raise InvalidParameterError(
                "escalation.clocks", self.clocks, f"a non-empty list of {', '.join(CLOCK_KINDS)}"
            )
        object.__setattr__(self, "clocks", tuple(self.clocks))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "share": self.share,
            "action": self.action,
            "to": self.to,
            "clocks": list(self.clocks),
        }


DEFAULT_LADDER: tuple[EscalationStep, ...] = (
    EscalationStep(0.75, "warn"),
    EscalationStep(1.0, "notify_lead"),
    EscalationStep(1.0, "raise_priority", clocks=("resolution",)),
    EscalationStep(1.0, "reassign", clocks=("resolution",)),
)


@dataclass(frozen=True)
class SlaPolicy:
    """Response and resolution targets per (priority, customer tier), and a ladder.

    ``targets`` maps ``(priority, tier)`` to :class:`SlaTarget`; tier ``"*"``
    applies to every tier without its own row.
    """

    name: str
    targets: Mapping[tuple[int, str], SlaTarget]
    ladder: tuple[EscalationStep, ...] = DEFAULT_LADDER
    _keys: tuple[tuple[int, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.targets:
            raise InvalidParameterError(
                f"policy {self.name!r}.targets",
                {},
                "at least one (priority, tier) target",
                'Add e.g. {"priority": 3, "tier": "*", "response": "4h", "resolution": "3d"}.',
            )
        object.__setattr__(self, "ladder", tuple(sorted(self.ladder, key=lambda s: s.share)))
        object.__setattr__(self, "_keys", tuple(sorted(self.targets)))

    def target(self, priority: int, tier: str | None) -> SlaTarget:
        """The target of this priority and tier (its own row, else the ``*`` row)."""
        for key in ((priority, tier or ANY_TIER), (priority, ANY_TIER)):
            if key in self.targets:
                return self.targets[key]
        raise InvalidParameterError(
            f"policy {self.name!r}",
            {"priority": priority, "tier": tier},
            f"a (priority, tier) it has a target for; it has {list(self._keys)}",
            f'Add a row for priority {priority} (tier "*" covers every tier).',
        )

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> SlaPolicy:
        """From JSON-able ``{"name", "targets": [{priority, tier, response, resolution}],
        "ladder": [{share, action, to, clocks}]}``; durations may be text ("4h")."""
        name = str(spec.get("name", "policy"))
        targets: dict[tuple[int, str], SlaTarget] = {}
        for i, row in enumerate(spec.get("targets") or ()):
            try:
                priority = int(row["priority"])
            except (KeyError, TypeError, ValueError):
                raise InvalidParameterError(
                    f"targets[{i}].priority",
                    row.get("priority"),
                    "an integer priority (1 = most urgent)",
                ) from None
            tier = str(row.get("tier") or ANY_TIER)
            targets[(priority, tier)] = SlaTarget(
                _seconds(row.get("response"), f"targets[{i}].response"),
                _seconds(row.get("resolution"), f"targets[{i}].resolution"),
            )
        ladder = spec.get("ladder")
        steps = (
            DEFAULT_LADDER
            if ladder is None
            else tuple(
                EscalationStep(
                    float(s["share"]),
                    str(s["action"]),
                    s.get("to"),
                    tuple(s.get("clocks") or CLOCK_KINDS),
                )
                for s in ladder
            )
        )
        return cls(name, targets, steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the inverse of :meth:`from_dict`."""
        return {
            "name": self.name,
            "targets": [
                {"priority": p, "tier": t, "response": v.response_s, "resolution": v.resolution_s}
                for (p, t), v in sorted(self.targets.items())
            ],
            "ladder": [s.to_dict() for s in self.ladder],
        }


def _seconds(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidParameterError(name, value, "a duration", 'Write e.g. "4h" or 14400.')
    seconds = parse_duration(value, name=name)  # type: ignore[arg-type]
    if seconds <= 0:
        raise InvalidParameterError(
            name, value, "a positive duration", 'Write e.g. "4h"; leave it out for no such clock.'
        )
    return seconds
