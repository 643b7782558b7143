"""Project 06's costs: where a default run of notebook 06 spends its time, step by step, in one process.

    .venv/bin/python bench/p06_platform.py [--notebook]

The MLflow registry (import, the SQLite schema migrations of a new database, registering 12 models with 24
versions, reading them back) is the slow part; the policy, the checker, the council and the roadmap are pure
Python over a dozen records. `--notebook` also executes the solution notebook once through the course runner
(into build/bench/p06/). Wall times on a shared machine: read them with the load average beside them. Not part
of the test suite; results in bench/RESULTS-p06.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

from lifecycle_lab.base import paths  # noqa: E402
from lifecycle_lab.deployment import registry  # noqa: E402
from lifecycle_lab.framing import prioritise  # noqa: E402
from lifecycle_lab.governance import checker, council  # noqa: E402
from lifecycle_lab.projects.p06_platform import platform, world  # noqa: E402


def timed(out: dict, key: str, fn):
    start = time.perf_counter()
    value = fn()
    out[key] = round(time.perf_counter() - start, 3)
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebook", action="store_true", help="also run the solution notebook once")
    args = ap.parse_args()
    out: dict = {}
    policy = timed(out, "policy_load_and_validate_s", platform.load_policy)
    pf = timed(out, "portfolio_12_models_s", lambda: world.portfolio(0, 12))
    folder = tempfile.mkdtemp(prefix="bench-p06-")
    uri = registry.tracking_uri(folder)
    timed(out, "mlflow_import_s", lambda: registry._mlflow(uri))
    from mlflow import MlflowClient

    timed(out, "mlflow_new_sqlite_db_migrations_s", lambda: MlflowClient().search_registered_models())
    timed(out, "register_12_models_24_versions_s", lambda: [  # as build_registry does
        registry.register_model_record(
        uri, r["name"], tags=r["tags"], source=os.path.join(folder, "a", r["name"]), versions=r["versions"],
        alias="champion" if r["aliases"] else None) for r in pf.records])
    records = timed(out, "read_records_s", lambda: registry.model_records(uri))
    timed(out, "check_portfolio_s", lambda: checker.check_portfolio(policy, records, directory=pf.directory,
                                                                    today=pf.today))
    timed(out, "council_agenda_s", lambda: council.agenda(policy, records, directory=pf.directory, today=pf.today))
    timed(out, "framing_evidence_both_s", lambda: [platform.framing_evidence(f) for f in world.CANDIDATES])
    timed(out, "confidence_sensitivity_s", lambda: prioritise.confidence_sensitivity(world.backlog()))
    timed(out, "checker_over_25_seeds_s", lambda: [checker.check_portfolio(
        policy, p.records, directory=p.directory, today=p.today) for p in map(world.portfolio, range(25))])
    shutil.rmtree(folder, ignore_errors=True)
    if args.notebook:
        from lifecycle_lab.course.runner import run_notebook

        dest = paths.BUILD / "bench" / "p06"
        shutil.rmtree(dest, ignore_errors=True)
        start = time.perf_counter()
        result = run_notebook(paths.SOLUTIONS / "06_advanced_platform_governance.ipynb", dest, {}, progress=False)
        out["notebook_default_run_s"] = round(time.perf_counter() - start, 1)
        out["notebook_error"] = result.error
    out["cpus"] = os.cpu_count()
    out["load_average_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))
    (paths.ROOT / "bench" / "RESULTS-p06.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
