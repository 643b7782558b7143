"""Throughput of the drift statistics on large samples: PSI (decile bins) and KS on 1M rows per side.

Measures (median of repeats, wall-clock seconds on this machine), with numbers drawn once per size:
- `monitor.psi` and `monitor.ks` on 100k and 1M rows per side (reference and current);
- `monitor.psi_table` (the per-bin breakdown) on 1M rows;
- optionally (`--evidently`) the Evidently DataDriftPreset on 100k rows, 3 numeric columns, for contrast
  (its import is excluded).

    .venv/bin/python bench/drift_throughput.py [--evidently]

Results are recorded by hand in bench/RESULTS-intermediate.md with the machine described.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from lifecycle_lab import monitor


def median_seconds(fn, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    rng = np.random.default_rng(0)
    monitor.ks([0.0, 1.0], [0.5, 2.0])  # import scipy.stats outside the timings
    print(f"{'rows/side':>10} {'statistic':>10} {'seconds':>8} {'Mrows/s':>8}")
    for n in (100_000, 1_000_000):
        ref = rng.normal(size=n)
        cur = rng.normal(0.1, 1.1, size=n)
        for name, fn in (("psi", lambda: monitor.psi(ref, cur)), ("ks", lambda: monitor.ks(ref, cur)),
                         ("psi_table", lambda: monitor.psi_table(ref, cur))):
            s = median_seconds(fn, 5 if n <= 100_000 else 3)
            print(f"{n:>10,} {name:>10} {s:>8.3f} {2 * n / s / 1e6:>8.1f}")
    print(f"psi on 1M rows: {monitor.psi(ref, cur):.4f}; ks: {monitor.ks(ref, cur)}")
    if "--evidently" in sys.argv:
        import pandas as pd

        n = 100_000
        ref = pd.DataFrame({c: rng.normal(size=n) for c in "abc"})
        cur = pd.DataFrame({c: rng.normal(0.1, size=n) for c in "abc"})
        monitor.evidently_drift(ref.head(100), cur.head(100), numerical=list("abc"))  # import + warm-up
        s = median_seconds(lambda: monitor.evidently_drift(ref, cur, numerical=list("abc")), 3)
        print(f"evidently DataDriftPreset, {n:,} rows/side, 3 numeric columns: {s:.2f} s")


if __name__ == "__main__":
    main()
