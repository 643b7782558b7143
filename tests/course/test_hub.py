"""The workshop hub: each learner gets their own copies with their own seed, and cannot read the others'.

The end-to-end test starts a real JupyterHub on 127.0.0.1 (configurable-http-proxy from npm, the shipped
configuration with the test-only dummy authenticator), creates learners as system users, spawns their
servers through the hub's REST API, runs the learner copy of notebook 00 in each through the server's kernel
API, and checks seeds and file isolation. It needs root (system users) and the proxy; it skips without
them on a laptop and fails in CI (LIFECYCLE_LAB_REQUIRE_HUB=1).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from helpers import execute_on_server, free_port

from lifecycle_lab.base import paths
from lifecycle_lab.course import hub
from lifecycle_lab.course.roster import derived_seed

CHP = paths.ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
LEARNERS = ("lltest-ana", "lltest-bo")


def test_a_workspace_gets_the_learner_copies_with_the_seed_and_keeps_existing_work(tmp_path):
    folder = hub.prepare_workspace(tmp_path / "home", 1234)
    copies = sorted(p.name for p in folder.glob("*.ipynb"))
    assert copies == sorted(p.name for p in paths.NOTEBOOKS.glob("*.ipynb"))
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert "seed = 1234" in params.source
        original = nbformat.read(paths.NOTEBOOKS / path.name, as_version=4)
        assert [c.source for c in nb.cells if c is not params] == \
               [c.source for c in original.cells if "parameters" not in c.metadata.get("tags", [])]
    mine = folder / "00_start_here.ipynb"
    mine.write_text(mine.read_text().replace("seed = 1234", "seed = 1234  # my notes"))
    hub.prepare_workspace(tmp_path / "home", 99)  # a restart must not overwrite the learner's work
    assert "my notes" in mine.read_text()
    with pytest.raises(ValueError, match="tagged `parameters`"):
        hub.with_seed(nbformat.writes(nbformat.v4.new_notebook()), 3)


def test_the_config_refuses_a_dummy_hub_without_a_password(tmp_path):
    class Config(dict):
        def __getattr__(self, name):
            return self.setdefault(name, type("Section", (), {})())

    with pytest.raises(ValueError, match="needs --password"):
        hub.configure(Config(), workdir=tmp_path, authenticator="dummy")
    with pytest.raises(ValueError, match="use pam"):
        hub.configure(Config(), workdir=tmp_path, authenticator="none")


def _requirements() -> str | None:
    if os.geteuid() != 0:
        return "needs root, to create the learners' system users"
    if not CHP.exists():
        return "configurable-http-proxy is not installed (make env runs npm ci)"
    if not shutil.which("useradd"):
        return "useradd is missing"
    return None


@pytest.fixture(scope="module")
def learners():
    missing = _requirements()
    if missing:
        if os.environ.get("LIFECYCLE_LAB_REQUIRE_HUB") == "1":
            pytest.fail(f"the hub test cannot run: {missing}")
        pytest.skip(missing)
    for name in LEARNERS:
        subprocess.run(["userdel", "-r", name], capture_output=True)
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
    probe = subprocess.run(["su", "-s", "/bin/sh", LEARNERS[0], "-c", f"{sys.executable} -c 'import lifecycle_lab'"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        for name in LEARNERS:
            subprocess.run(["userdel", "-r", name], capture_output=True)
        pytest.fail(f"a learner's account cannot run this Python ({sys.executable}): {probe.stderr.strip()[-300:]}; "
                    f"install Python where every account can read it (on this CI machine .ci/run makes the "
                    f"interpreter's folders traversable)")
    yield LEARNERS
    for name in LEARNERS:
        subprocess.run(["pkill", "-u", name], capture_output=True)
        subprocess.run(["userdel", "-r", name], capture_output=True)


def _api(base: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read()
        return r.status, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def running_hub(learners, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hub")
    token = "test-admin-token-" + os.urandom(8).hex()
    port = free_port()
    config = hub.write_config(workdir, port=port, ip="127.0.0.1", roster=None, authenticator="dummy",
                              password="room-42", admin_token=token, hub_port=free_port(),
                              proxy_api_port=free_port())
    env = {**os.environ, "PATH": f"{CHP.parent}{os.pathsep}{os.environ['PATH']}"}
    log = (workdir / "hub.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)], cwd=workdir,
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            _api(base, token, "/hub/api/")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterHub did not start:\n" + (workdir / "hub.log").read_text()[-3000:])
            time.sleep(0.5)
    yield base, token, workdir
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def _spawn(base: str, token: str, name: str, workdir: Path) -> None:
    _api(base, token, f"/hub/api/users/{name}", "POST")
    status, _ = _api(base, token, f"/hub/api/users/{name}/server", "POST")
    assert status in (201, 202)
    deadline = time.monotonic() + 180
    while True:
        _, user = _api(base, token, f"/hub/api/users/{name}")
        server = (user.get("servers") or {}).get("")
        if server and server.get("ready"):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{name}'s server did not start:\n" + (workdir / "hub.log").read_text()[-3000:])
        time.sleep(1)


@pytest.mark.notebook
def test_learners_get_their_own_seed_run_notebook_00_and_cannot_read_each_other(running_hub):
    base, token, workdir = running_hub
    for name in LEARNERS:
        _spawn(base, token, name, workdir)
    for me, other in (LEARNERS, LEARNERS[::-1]):
        server = f"{base}/user/{me}"
        _, listing = _api(server, token, "/api/contents")
        assert "00_start_here.ipynb" in {item["name"] for item in listing["content"]}
        _, mine = _api(server, token, "/api/contents/00_start_here.ipynb")
        params = next(c for c in mine["content"]["cells"] if "parameters" in c["metadata"].get("tags", []))
        src = "".join(params["source"]) if isinstance(params["source"], list) else params["source"]
        assert f"seed = {derived_seed(me)}" in src  # their own scenario, derived from their user name
        # their own copy of notebook 00, run cell by cell through their server's kernel, as JupyterLab would
        cells = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                 for c in mine["content"]["cells"] if c["cell_type"] == "code"]
        results = execute_on_server(server, token, [*cells, "print('SEED', seed)", "import getpass, os\n"
                                    "print('USER', getpass.getuser(), os.environ['LIFECYCLE_LAB_BUILD'])"])
        errors = [r["error"] for r in results if r["error"]]
        assert not errors, f"{me}'s notebook failed: {errors}"
        text = "".join(r["text"] for r in results)
        assert "SUMMARY " in text and f"SEED {derived_seed(me)}" in text
        assert f"USER {me} /home/{me}/lifecycle-lab/build" in text
        # the other learner's files are out of reach
        peek = execute_on_server(server, token, [f"open('/home/{other}/lifecycle-lab/notebooks/00_start_here.ipynb')"])
        assert peek[0]["error"] and peek[0]["error"].startswith("PermissionError")
    assert derived_seed(LEARNERS[0]) != derived_seed(LEARNERS[1])


def test_the_workspace_command_containers_and_kubernetes_run(tmp_path, monkeypatch, capsys):
    from lifecycle_lab.cli import main

    monkeypatch.setenv("LIFECYCLE_LAB_SEED", "77")
    assert main(["workspace", "--home", str(tmp_path), "--seed-from-env"]) == 0
    assert "seed = 77" in (tmp_path / "lifecycle-lab" / "notebooks" / "00_start_here.ipynb").read_text()
    monkeypatch.setenv("LIFECYCLE_LAB_SEED", "x")
    assert main(["workspace", "--home", str(tmp_path), "--seed-from-env"]) == 2


def test_the_docker_and_kubernetes_hub_files_parse_and_name_real_commands():
    import ast
    import yaml

    from lifecycle_lab.cli import build_parser

    docker = (paths.ROOT / "docker" / "hub" / "jupyterhub_config_docker.py").read_text()
    ast.parse(docker)
    values = yaml.safe_load((paths.ROOT / "docker" / "hub" / "z2jh-values.yaml").read_text())
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[0] == "lifecycle-lab"
    build_parser().parse_args(command[1:])  # the sub-command and its flags exist
    assert "lifecycle-lab workspace --home /home/jovyan --seed-from-env" in docker
    assert values["singleuser"]["memory"]["limit"] and values["singleuser"]["cpu"]["limit"]
