"""Project 05's costs: the simulated loop (run time, simulated impressions per second) and the serving
measurements side by side (cache vs none, teacher vs student), as ratios.

    .venv/bin/python bench/p05_recommender.py [--days 90 --sessions 2000]

Every comparison runs its two sides in the same process, interleaved, so a busy machine slows both: read
the ratios, not the absolute times. Writes bench/RESULTS-p05.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle_lab.projects.p05_recommender import loop, serving
from lifecycle_lab.projects.p05_recommender.world import RecWorld


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--sessions", type=int, default=2000)
    args = ap.parse_args()
    world = RecWorld(seed=0, n_days=args.days)
    out: dict = {}
    times = {}
    for policy in loop.POLICIES:
        t = time.perf_counter()
        run = loop.simulate(world, policy, epsilon=0.1, sessions_per_day=args.sessions,
                            keep_days=(args.days - 2, args.days - 1) if policy == "ips" else ())
        times[policy] = time.perf_counter() - t
        if policy == "ips":
            frame = pd.concat(run.kept.values())
    events = args.days * args.sessions * world.slate_size
    out["loop_s"] = {p: round(v, 2) for p, v in times.items()}
    out["impressions_per_policy"] = events
    out["impressions_per_s"] = {p: round(events / v) for p, v in times.items()}

    t = time.perf_counter()
    teacher = serving.train_teacher(world, frame)
    out["teacher_train_s"] = round(time.perf_counter() - t, 2)
    student = serving.distil(teacher, np.arange(0, world.n_users, 7))
    users = np.random.default_rng(1).choice(world.n_users, 1000, replace=False)
    lat_t, lat_s = [], []
    for _ in range(3):  # interleaved
        lat_t += serving.latency_per_1000(teacher, users[:100], repeats=1)
        lat_s += serving.latency_per_1000(student, users[:300], repeats=1)
    out["teacher_s_per_1000_requests"] = round(statistics.median(lat_t), 3)
    out["student_s_per_1000_requests"] = round(statistics.median(lat_s), 4)
    out["teacher_over_student_latency"] = round(statistics.median(lat_t) / statistics.median(lat_s), 1)
    out["ndcg_teacher"] = round(serving.ndcg(teacher, users, args.days - 1), 4)
    out["ndcg_student"] = round(serving.ndcg(student, users, args.days - 1), 4)

    stamps, stream = serving.request_stream(world, 20_000, 3600.0)
    cached, plain = [], []
    for _ in range(3):  # interleaved
        t = time.perf_counter()
        s = serving.replay(serving.Server(student, 300.0, 50_000), stamps[:5000], stream[:5000], 600.0)
        cached.append(time.perf_counter() - t)
        t = time.perf_counter()
        serving.replay(serving.Server(student, 0.0, 1), stamps[:5000], stream[:5000], 600.0)
        plain.append(time.perf_counter() - t)
    out["cache_ttl_300s_hit_rate_5000_requests"] = round(s.hit_rate, 4)
    out["student_5000_requests_s"] = {"cache": round(statistics.median(cached), 3),
                                      "no_cache": round(statistics.median(plain), 3)}
    out["no_cache_over_cache_time"] = round(statistics.median(plain) / statistics.median(cached), 2)
    out["cpus"] = os.cpu_count()
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    path = Path(__file__).with_name("RESULTS-p05.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
