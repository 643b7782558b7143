"""`make lab` starts JupyterLab offline and serves the learner copies."""

import json
import shlex
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from lifecycle_lab.base import paths


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.notebook
def test_jupyterlab_serves_the_learner_notebooks(tmp_path):
    port = _free_port()
    # The exact command `make lab` runs (dry run), plus a port and token for the test.
    dry = subprocess.run(["make", "-s", "-n", "lab"], cwd=paths.ROOT, capture_output=True, text=True, check=True)
    made = shlex.split(dry.stdout.strip().splitlines()[-1])
    assert made[1:] == ["-m", "lifecycle_lab", "lab"], made
    cmd = [str(paths.ROOT / made[0]), *made[1:], "--", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--IdentityProvider.token=lab-test"]
    env = {"HOME": str(tmp_path), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(cmd, cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/contents?token=lab-test", timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.5)
        names = {item["name"] for item in listing["content"]}
        assert "00_start_here.ipynb" in names
        with urllib.request.urlopen(f"{base}/lab?token=lab-test", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
        # no "would you like to get Jupyter news?" on first start: news and update checks are off
        plugin = "@jupyterlab/apputils-extension:notification"
        with urllib.request.urlopen(f"{base}/lab/api/settings/{plugin}?token=lab-test", timeout=10) as r:
            served = json.load(r)
        # a learner's own settings win; otherwise the defaults, which the environment's overrides replace
        value = {k: served["settings"].get(k, served["schema"]["properties"][k]["default"])
                 for k in ("fetchNews", "checkForUpdates")}
        assert value == {"fetchNews": "false", "checkForUpdates": False}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_workbook_image_starts_jupyterlab_the_same_way():
    """The Docker image and `make lab` share one command (`lifecycle-lab lab`), so their flags cannot drift."""
    from lifecycle_lab.course.lab import lab_command

    cmd_line = next(line for line in (paths.ROOT / "docker" / "workbook.Dockerfile").read_text().splitlines()
                    if line.startswith("CMD"))
    assert json.loads(cmd_line[len("CMD"):])[:3] == ["lifecycle-lab", "lab", "--"]
    flags = lab_command()
    assert "--LabApp.extension_manager=readonly" in flags  # no PyPI lookups for extensions
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in flags
    assert f"--ServerApp.root_dir={paths.NOTEBOOKS}" in flags  # learners land on their copies


def test_the_offline_lab_settings_are_merged_into_the_environments_overrides(tmp_path):
    from lifecycle_lab.course.lab import NOTIFICATION_PLUGIN, write_lab_settings

    target = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    assert write_lab_settings(tmp_path) == target
    merged = json.loads(target.read_text())
    assert merged["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}  # kept
    assert merged[NOTIFICATION_PLUGIN] == {"fetchNews": "false", "checkForUpdates": False}
    write_lab_settings(tmp_path)  # idempotent
    assert json.loads(target.read_text()) == merged


def test_current_lab_settings_are_not_written_again(tmp_path, monkeypatch):
    # the workbook image writes them at build time into /opt/venv, which its learner (uid 1000) cannot write:
    # `lifecycle-lab lab` must then start without writing (a write there is "Permission denied")
    from pathlib import Path

    from lifecycle_lab.course.lab import write_lab_settings

    target = write_lab_settings(tmp_path)
    writes = []
    real = Path.write_text
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: writes.append(self) or real(self, *a, **k))
    assert write_lab_settings(tmp_path) == target and writes == []
    target.write_text(json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "true"}}))
    writes.clear()
    write_lab_settings(tmp_path)
    assert writes == [target] and json.loads(target.read_text())[
        "@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
