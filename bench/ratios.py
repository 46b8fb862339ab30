"""The goal lines every benchmark prints: ``name: measured, baseline, ratio``.

Each goal is a ratio of two figures measured in the same run (so a busy machine slows
both), with the limit the issue set; ``failed()`` tells ``main`` to exit non-zero.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Goals:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def ratio(
        self,
        name: str,
        measured: float,
        baseline: float,
        *,
        limit: float,
        unit: str = "ms",
        higher_is_better: bool = False,
    ) -> float:
        """Print ``name: measured, baseline, ratio`` and remember whether it passed."""
        ratio = measured / baseline if baseline else float("inf")
        ok = ratio >= limit if higher_is_better else ratio <= limit
        sign = ">=" if higher_is_better else "<="
        line = (
            f"{name}: {_fmt(measured, unit)}, {_fmt(baseline, unit)}, {ratio:.2f}x "
            f"(goal {sign} {limit:g}x) {'ok' if ok else 'FAILED'}"
        )
        print(line, flush=True)
        self.lines.append(line)
        if not ok:
            self.failures.append(name)
        return ratio

    def failed(self) -> bool:
        """True if a goal was missed, except in a smoke run (``BENCH_SMOKE=1``, as in
        ``.ci/run``): at a small size the ratios say nothing, the run proves the
        benchmarks work."""
        if self.failures:
            print(f"{len(self.failures)} goal(s) missed: {', '.join(self.failures)}")
            if os.environ.get("BENCH_SMOKE") == "1":
                print("BENCH_SMOKE=1: a smoke run, goals not enforced")
                return False
        return bool(self.failures)


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1000:.2f} ms"
    if unit == "MB":
        return f"{value / (1 << 20):.1f} MB"
    return f"{value:.2f} {unit}".rstrip()


def median_seconds(fn: Callable[[], object], *, repeat: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs (after ``warmup`` runs)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
