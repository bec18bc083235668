"""The load test's figures from what loadtest/locustfile.py recorded: one row per kind of request and
one for them all, then throughput and the mail the worker sent during the run.

A server error is a 5xx answer or a request that got no answer at all (refused, reset, timed out): to a
reader both are the site being down. Other failures are answers the simulated reader did not expect
(a 400 to a filter the page offered, a desk form refused).
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field

ALL = "all requests"


@dataclass
class Kind:
    name: str
    timings: list[float] = field(default_factory=list)
    failures: int = 0
    server_errors: int = 0

    def percentile(self, share: float) -> float:
        """Nearest rank: of 100 timings, the 99th percentile is the second slowest."""
        ordered = sorted(self.timings)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, max(0, math.ceil(len(ordered) * share) - 1))]


def kinds(recorded: dict) -> list[Kind]:
    """Each kind of request in the order of the most asked first, then all of them together."""
    by_name: dict[str, Kind] = defaultdict(lambda: Kind(""))
    every = Kind(ALL)
    for name, ms, status, error in recorded["requests"]:
        kind = by_name[name]
        kind.name = name
        for into in (kind, every):
            into.timings.append(ms)
            if error is not None:
                into.failures += 1
                into.server_errors += int(status == 0 or status >= 500)
    ordered = sorted(by_name.values(), key=lambda kind: (-len(kind.timings), kind.name))
    return [*ordered, every]


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def table(recorded: dict, mail: dict[str, int], *, users: int, events: int, workers: int, target_ms: int) -> str:
    rows = kinds(recorded)
    every = rows[-1]
    seconds = recorded["seconds"] or 1
    lines = [
        f"Load test: {users} readers and an editor for {seconds:,.0f} s against gunicorn ({workers} workers), "
        f"a Celery worker and beat on PostgreSQL and Redis; a story of {events:,} events and the demo story.",
        "",
        "| request | requests | failures | server errors | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in rows:
        name = f"**{kind.name}**" if kind is every else kind.name
        lines.append(
            f"| {name} | {len(kind.timings):,} | {kind.failures:,} | {kind.server_errors:,} | "
            f"{_ms(kind.percentile(0.50))} | {_ms(kind.percentile(0.95))} | {_ms(kind.percentile(0.99))} | "
            f"{_ms(max(kind.timings, default=0))} |"
        )
    p99 = every.percentile(0.99)
    lines += [
        "",
        f"- throughput: {len(every.timings) / seconds:,.1f} requests/s",
        f"- server errors (5xx or no answer): {every.server_errors:,} (target 0)",
        f"- p99 of all requests: {_ms(p99)} (target < {target_ms} ms): {'met' if p99 < target_ms else 'NOT met'}",
        f"- digests sent during the run: {mail['digests']:,} of the {mail['digests_owed']:,} owed at its start; "
        f"immediate alerts sent: {mail['alerts']:,}; {mail['files']:,} messages written to var/loadtest/mail/",
    ]
    if errors := recorded.get("user_errors"):
        lines.append(f"- errors in the simulated users' own code: {len(errors):,} (target 0)")
    if recorded.get("failure_samples"):
        lines += ["", "Some failures:", *(f"- {sample}" for sample in recorded["failure_samples"])]
    return "\n".join(lines)


def verdict(recorded: dict, *, target_ms: int) -> list[str]:
    """What makes the run fail; empty when it passed."""
    every = kinds(recorded)[-1]
    problems = []
    if not every.timings:
        problems.append("no request was made")
    if every.server_errors:
        problems.append(f"{every.server_errors} server errors (5xx or no answer)")
    if other := every.failures - every.server_errors:
        problems.append(f"{other} requests failed with an answer the reader did not expect")
    if errors := recorded.get("user_errors"):
        problems.append(f"{len(errors)} errors in the simulated users' code, the first: {errors[0]}")
    if (p99 := every.percentile(0.99)) >= target_ms:
        problems.append(f"p99 {p99:,.0f} ms, not under {target_ms} ms")
    return problems
