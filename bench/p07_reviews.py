"""Project 07's figures: could rules do it, over seeds, and what the steps of notebook 07 cost.

    .venv/bin/python bench/p07_reviews.py [--seeds 10]

For each seed at the notebook's default sizes (2,000 reviews, 300 served): VADER at its suggested cut-off 0.05
and at the cut-off chosen on the training reviews, and the TF-IDF classifier, all against the test reviews' true
sentiment (accuracy, macro-F1), and the classifier's error on served reviews of products launched after training
and of the others. Then, once, the wall time of each step: VADER scoring, training, starting `lifecycle-lab serve`
with the sentiment artifact until /health answers, the request script, and one `lifecycle-lab batch` run. Wall
times on a shared machine: read them with the load average beside them. Not part of the test suite; results in
bench/RESULTS-p07.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from lifecycle_lab.projects.p07_reviews import model as m
from lifecycle_lab.projects.p07_reviews import serving, world


def compare(seed: int) -> dict:
    data = world.generate(seed=seed, n_reviews=2000)
    train, _, test = world.stratified_split(data, seed)
    train_scores, test_scores = m.vader_scores(train["text"]), m.vader_scores(test["text"])
    cutoff, _ = m.best_vader_threshold(train_scores, train["label"])
    clf = m.build_classifier(seed).fit(train["text"], train["label"])
    served = world.served_reviews(seed, 300, 0.2)
    wrong = clf.predict(served["text"]) != served["sentiment"].to_numpy()
    new = served["product"].isin(world.NEW_PRODUCTS).to_numpy()
    row = {"seed": seed, "vader_cutoff": cutoff}
    for name, pred in (("vader_0.05", m.vader_predict(test_scores, m.VADER_SUGGESTED)),
                       ("vader_tuned", m.vader_predict(test_scores, cutoff)), ("classifier", clf.predict(test["text"]))):
        row.update({f"{name}_{k}": v for k, v in m.scores(test["sentiment"], pred).items()})
    row.update(served_error_new=float(wrong[new].mean()), served_error_existing=float(wrong[~new].mean()))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def timings() -> dict:
    out: dict[str, float] = {}
    tick = time.perf_counter()
    data = world.generate(seed=42, n_reviews=2000)
    train, _, _ = world.stratified_split(data, 42)
    out["generate_and_split_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    m.vader_scores(data["text"])
    out["vader_2000_reviews_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    clf = m.build_classifier(42).fit(train["text"], train["label"])
    out["train_1200_reviews_s"] = time.perf_counter() - tick
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        m.save_classifier(clf, tmp / "art", train=train, seed=42, version="1", metrics={}, review_threshold=0.6)
        served = world.served_reviews(42, 300, 0.2)
        tick = time.perf_counter()
        with serving.Service(tmp / "art", tmp / "log.jsonl") as service:
            out["serve_start_to_health_s"] = time.perf_counter() - tick
            tick = time.perf_counter()
            serving.send_requests(service.url, served)
            out["request_script_300_s"] = time.perf_counter() - tick
        tick = time.perf_counter()
        serving.run_batch(serving.write_batch_input(served, tmp / "in.csv"), f"sqlite:///{tmp / 'b.db'}", tmp / "art",
                          ledger=tmp / "ledger.jsonl")
        out["batch_cli_300_rows_s"] = time.perf_counter() - tick
    return {k: round(v, 3) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    rows = [compare(seed) for seed in range(args.seeds)]
    keys = [k for k in rows[0] if k != "seed"]
    summary = {k: {"mean": round(float(np.mean([r[k] for r in rows])), 4), "min": min(r[k] for r in rows),
                   "max": max(r[k] for r in rows)} for k in keys}
    result = {"load_average_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
              "per_seed": rows, "over_seeds": summary, "timings": timings(),
              "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    path = Path(__file__).with_name("RESULTS-p07.json")
    path.write_text(json.dumps(result, indent=1) + "\n")
    for k in ("vader_0.05_accuracy", "vader_tuned_accuracy", "vader_tuned_macro_f1", "classifier_accuracy",
              "classifier_macro_f1", "served_error_new", "served_error_existing"):
        print(f"{k:24} mean {summary[k]['mean']:.3f}  range {summary[k]['min']:.3f}-{summary[k]['max']:.3f}")
    print("timings (s):", result["timings"], "load", result["load_average_before"])


if __name__ == "__main__":
    main()
