"""The multi-skill center of the simulation benchmark.

20 queues (10 departments, each with a standard and a gold segment; gold has
priority), 500 agents in 10 groups of 50: each group serves its department
first and the next department as a second skill.  Bots in front of half the
departments (40% of contacts, escalation below 0.85 confidence, 15% shorter
human handling with context, 10% of contained contacts come back), 5% of
answered contacts transferred to the next department, log-normal handle
times, exponential patience, 30% of abandoners redial.  Rates are constant,
sized so that about ``contacts`` contacts arrive over ``days`` days at ~90%
occupancy.
"""

from __future__ import annotations

from contactops.simulate import AgentGroup, Bot, Center, Exponential, LogNormal, Queue

DEPARTMENTS = 10
AGENTS_PER_GROUP = 50
AHT = 330.0


def multiskill_center(contacts: int = 1_000_000, days: int = 8) -> Center:
    """The benchmark center; ``contacts`` is the expected number of fresh arrivals."""
    total_rate = contacts / (days * 86400.0)
    queues = []
    for d in range(DEPARTMENTS):
        nxt = f"dept{(d + 1) % DEPARTMENTS:02d}"
        bot = (
            Bot(
                share=0.4,
                threshold=0.85,
                context_factor=0.85,
                repeat_share=0.1,
                handle_time=Exponential(90.0),
            )
            if d % 2 == 0
            else None
        )
        for segment, share, priority in (("standard", 0.8, 0), ("gold", 0.2, 10)):
            name = f"dept{d:02d}" + ("" if segment == "standard" else "-gold")
            queues.append(
                Queue(
                    name=name,
                    segment=segment,
                    priority=priority,
                    arrival_rate=total_rate * share / DEPARTMENTS,
                    handle_time=LogNormal(AHT, 0.8 * AHT),
                    patience=Exponential(120.0),
                    redial_probability=0.3,
                    bot=bot,
                    transfers={nxt: 0.05},
                )
            )
    groups = [
        AgentGroup(
            name=f"team{d:02d}",
            staffing=AGENTS_PER_GROUP,
            skills={
                f"dept{d:02d}-gold": 1,
                f"dept{d:02d}": 1,
                f"dept{(d + 1) % DEPARTMENTS:02d}": 2,
            },
        )
        for d in range(DEPARTMENTS)
    ]
    return Center(queues=queues, groups=groups, interval=1800.0)


if __name__ == "__main__":  # pragma: no cover - a quick look
    import time

    from contactops.simulate import simulate

    center = multiskill_center()
    t0 = time.perf_counter()
    result = simulate(center, days=8, seed=1)
    rows = result.queue_summary().to_pylist()
    print(f"{sum(r['arrived'] for r in rows):,.0f} legs in {time.perf_counter() - t0:.2f}s")
    for r in rows[:4]:
        print(
            r["queue"],
            round(r["service_level"], 3),
            round(r["abandon_rate"], 3),
            round(r["occupancy"], 3),
        )
