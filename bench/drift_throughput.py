"""Throughput of the drift statistics on large samples: PSI (decile bins) and KS on 1M rows per side.

Measures (median of `--repeats`, at least 3; wall-clock seconds on this machine), numbers drawn once per size:
- `monitor.psi`, `monitor.ks` and `monitor.psi_table` on 100k and 1M rows per side (reference and current);
- `monitor.sturges_psi` (Evidently's binning) and, for a categorical column of 3 values,
  `monitor.categorical_psi` and `monitor.js_distance` on 1M rows per side;
- optionally (`--evidently`) the Evidently DataDriftPreset on 100k rows, 3 numeric columns, for contrast
  (its import is excluded).

    .venv/bin/python bench/drift_throughput.py [--repeats 5] [--evidently] [--out bench/RESULTS-intermediate-drift.json]

Writes the samples and medians as JSON (with the machine) and prints a markdown table for
bench/RESULTS-intermediate.md.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from lifecycle_lab.monitoring import drift as monitor

ROOT = Path(__file__).resolve().parents[1]


def samples_of(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    repeats = max(3, int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 5)
    out_path = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else ROOT / "bench" / "RESULTS-intermediate-drift.json"
    rng = np.random.default_rng(0)
    monitor.ks([0.0, 1.0], [0.5, 2.0])  # import scipy.stats outside the timings
    monitor.js_distance(["a"], ["a"])
    rows = []
    for n in (100_000, 1_000_000):
        ref = rng.normal(size=n)
        cur = rng.normal(0.1, 1.1, size=n)
        cases = [("psi", lambda: monitor.psi(ref, cur)), ("ks", lambda: monitor.ks(ref, cur)),
                 ("psi_table", lambda: monitor.psi_table(ref, cur))]
        if n == 1_000_000:
            cat_ref = rng.choice(["mobile", "desktop", "tv"], n, p=[0.5, 0.35, 0.15])
            cat_cur = rng.choice(["mobile", "desktop", "tv"], n, p=[0.6, 0.28, 0.12])
            cases += [("sturges_psi", lambda: monitor.sturges_psi(ref, cur)),
                      ("categorical_psi", lambda: monitor.categorical_psi(cat_ref, cat_cur)),
                      ("js_distance", lambda: monitor.js_distance(cat_ref, cat_cur))]
        for name, fn in cases:
            s = samples_of(fn, repeats)
            rows.append({"rows_per_side": n, "statistic": name, "samples": s, "median_seconds": statistics.median(s),
                         "m_rows_per_s": 2 * n / statistics.median(s) / 1e6})
    result = {"machine": {"nproc": os.cpu_count(), "load_average": os.getloadavg()}, "repeats": repeats,
              "rows": rows}
    if "--evidently" in sys.argv:
        import pandas as pd

        n = 100_000
        ref_df = pd.DataFrame({c: rng.normal(size=n) for c in "abc"})
        cur_df = pd.DataFrame({c: rng.normal(0.1, size=n) for c in "abc"})
        monitor.evidently_drift(ref_df.head(100), cur_df.head(100), numerical=list("abc"))  # import + warm-up
        s = samples_of(lambda: monitor.evidently_drift(ref_df, cur_df, numerical=list("abc")), repeats)
        result["evidently_100k_3_numeric"] = {"samples": s, "median_seconds": statistics.median(s)}
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out_path}\n")
    print("| rows per side | statistic | seconds (median) | M rows/s |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['rows_per_side']:,} | `monitor.{r['statistic']}` | {r['median_seconds']:.3f} | "
              f"{r['m_rows_per_s']:.1f} |")
    if "evidently_100k_3_numeric" in result:
        print(f"\nEvidently DataDriftPreset, 100,000 rows/side, 3 numeric columns: "
              f"{result['evidently_100k_3_numeric']['median_seconds']:.2f} s")


if __name__ == "__main__":
    main()
