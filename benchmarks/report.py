"""One figure of the benchmark, and the table `make bench` prints of them all."""

import datetime
import os
import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    figure: str  # which of the figures: "1. first events on screen"
    what: str  # what was measured: "story page, fresh render, median"
    size: int | None  # N: events (or subscribers, rows...) the figure was measured at
    value: float
    unit: str  # ms, s, KB, req/s, MB, queries, %, x
    target: str = ""  # the target as people read it: "< 50 ms", ">= 50% of static"
    met: bool | None = None  # None: no target, or not comparable
    note: str = ""

    @property
    def shown_value(self) -> str:
        if not self.unit:  # not measured: the row says why
            return ""
        if self.unit in ("queries", "elements", "sessions"):
            return f"{self.value:,.0f} {self.unit}"
        precision = 0 if abs(self.value) >= 100 else 1 if abs(self.value) >= 10 else 2
        return f"{self.value:,.{precision}f} {self.unit}"


def machine() -> str:
    cores = os.cpu_count() or 0
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
            memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{platform.node()}: {cores} cores{memory}, {system}, Python {platform.python_version()}"


def table(figures: list[Figure], *, started: datetime.datetime | None = None) -> str:
    """A Markdown table (it goes into the README as it is), with the date and the machine above it."""
    started = started or datetime.datetime.now(datetime.UTC)
    lines = [
        f"`make bench` on {started:%Y-%m-%d %H:%M} UTC, {machine()}",
        "",
        "| figure | what | N | measured | target | met |",
        "|---|---|---:|---:|---|---|",
    ]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        size = "" if f.size is None else f"{f.size:,}"
        what = f.what + (f" ({f.note})" if f.note else "")
        lines.append(f"| {f.figure} | {what} | {size} | {f.shown_value} | {f.target} | {met} |")
    return "\n".join(lines)
