"""The images, built and run: `make images`' steps build the Debian base, the wheelhouse and both images (once
per session, each step skipped when current); then, inside the service image, the batch job scores a file into
SQLite and into PostgreSQL (rows in = written + rejected + duplicate, predictions equal the model's own on the
host) and the API answers the host on 127.0.0.1, checked by the Postman collection run with newman; inside the
workbook image, `lifecycle-lab run 00 --fast` runs notebook 00.

They need root, podman, buildah and mmdebstrap (Debian packages); without them they skip, and with
LIFECYCLE_LAB_REQUIRE_IMAGES=1 (.ci/run sets it, and installs the packages) they fail instead.
"""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import readme_docker_commands as readme_commands
from helpers import ticket_artifact
from lifecycle_lab.base import paths
from lifecycle_lab.deployment import images

pytestmark = pytest.mark.images
REQUIRE = os.environ.get("LIFECYCLE_LAB_REQUIRE_IMAGES") == "1"
PG_URL = os.environ.get("LIFECYCLE_LAB_PG_URL")
COLLECTION = paths.ROOT / "docker" / "postman" / "ticket-api.postman_collection.json"
NEWMAN = paths.ROOT / "node_modules" / ".bin" / "newman"
THRESHOLD = 0.65


def _unavailable(why: str):
    if REQUIRE:
        pytest.fail(f"LIFECYCLE_LAB_REQUIRE_IMAGES=1 but {why}")
    pytest.skip(why)


def _build(target: str, tmp_path_factory):
    if images.missing_tools():
        _unavailable(f"{', '.join(images.missing_tools())} not installed (apt-get install podman buildah mmdebstrap)")
    if os.geteuid() != 0:
        _unavailable("the image builds run as root here (mmdebstrap, podman with the vfs driver)")
    log = tmp_path_factory.mktemp("images") / f"build-{target}.log"
    with open(log, "w") as out:
        try:
            steps = images.build((target,), log=out)
        except images.ImageError as err:
            pytest.fail(f"{err}\n{log.read_text(errors='replace')[-4000:]}")
    return steps[-1]


@pytest.fixture(scope="session")
def service_image(tmp_path_factory):
    """The service image, built (or found current) once per session; the build's output goes to a log file."""
    return _build("service", tmp_path_factory)


@pytest.fixture(scope="session")
def workbook_image(tmp_path_factory):
    return _build("workbook", tmp_path_factory)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A folder mounted at /data in the containers: a model artifact and a ticket file with three bad rows."""
    from lifecycle_lab.projects.p01_tickets import world as tickets

    folder = tmp_path_factory.mktemp("image-data")
    folder.chmod(0o777)  # the images run as uid 1000
    _, _, model = ticket_artifact(folder / "model", seed=3, n_tickets=400, version="7",
                                  review_threshold=THRESHOLD)
    frame = tickets.unlabelled(tickets.generate(seed=8, n_tickets=300))
    frame.loc[10, "text"] = ""
    frame.loc[20, "ticket_id"] = ""
    frame.loc[30, "created_at"] = "yesterday"
    frame.loc[40, "ticket_id"] = frame.loc[41, "ticket_id"]  # a duplicate id: the last copy is kept
    frame.to_csv(folder / "in.csv", index=False)
    for f in folder.rglob("*"):
        f.chmod(0o777 if f.is_dir() else 0o666)
    return folder, frame, model


@pytest.fixture(scope="module")
def service(service_image, data):
    """One working container of the service image for this module (each costs a copy of the image with vfs),
    with the data folder mounted at /data."""
    with images.Container(images.SERVICE, volumes={data[0]: "/data"}) as ctr:
        yield ctr


@pytest.fixture(scope="module")
def workbook(workbook_image):
    with images.Container(images.WORKBOOK) as ctr:
        yield ctr


LISTING = "import importlib.metadata as m, json; print(json.dumps({d.name: d.version for d in m.distributions()}))"


def _installed(ctr) -> dict:
    done = ctr.run("python", "-c", LISTING)
    assert done.returncode == 0, done.stderr
    return {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in json.loads(done.stdout).items()}


def _pinned(lock: str) -> dict:
    reqs = images.lock_requirements(paths.ROOT / lock, images.DEBIAN_PYTHON)
    return {re.sub(r"[-_.]+", "-", r.split("==")[0]).lower(): r.split("==")[1] for r in reqs}


@pytest.mark.parametrize("which", ["service", "workbook"])
def test_each_image_holds_its_locks_packages_at_the_locks_versions(which, request):
    """Oracle: the lock files, with their markers for the base's Python. The service image holds the service
    lock and nothing else (no notebook stack); the workbook image every pin of requirements.lock."""
    ctr = request.getfixturevalue(which)
    version = ctr.run("python", "-c", "import platform; print(platform.python_version())").stdout.strip()
    assert version == images.DEBIAN_PYTHON
    have = _installed(ctr)
    want = _pinned("docker/requirements-service.lock" if which == "service" else "requirements.lock")
    assert {name: have.get(name) for name in want} == want
    assert not set(have) - set(want) - {"lifecycle-lab", "pip", "setuptools"}
    size = request.getfixturevalue(f"{which}_image").detail["bytes"]
    assert size < 700e6 if which == "service" else size > 1.2e9  # the notebook stack is most of the workbook


def _batch_in_image(ctr, db_url):
    done = ctr.run("lifecycle-lab", "batch", "/data/in.csv", "--db", db_url, "--create-db", "--model", "/data/model",
                   timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_batch(report, frame, model, host_url):
    from lifecycle_lab.projects.p01_tickets import batch

    assert report["status"] == "succeeded" and report["review_threshold"] == THRESHOLD
    assert report["rows_in"] == len(frame) == 300
    assert report["rows_in"] == report["rows_written"] + report["rows_rejected"] + report["rows_duplicate"]
    assert (report["rows_rejected"], report["rows_duplicate"]) == (3, 1)
    preds = batch.read_table(host_url, "predictions").set_index("ticket_id")
    assert len(preds) == report["rows_written"] == 296
    valid = frame.drop(index=[10, 20, 30, 40])
    proba = model.predict_proba(valid["text"].tolist())  # the host's copy of the model is the oracle
    got = preds.loc[valid["ticket_id"].astype(str)]
    assert (got["predicted_class"].to_numpy() == model.classes_[proba.argmax(axis=1)]).all()
    assert np.allclose(got["confidence"].to_numpy(), proba.max(axis=1))
    runs = batch.read_table(host_url, "runs")
    assert runs[runs.run_id == report["run_id"]].status.tolist() == ["succeeded"]


def test_the_batch_job_runs_in_the_service_image_on_sqlite(service, data):
    folder, frame, model = data
    report = _batch_in_image(service, "sqlite:////data/tickets.db")
    _check_batch(report, frame, model, f"sqlite:///{folder / 'tickets.db'}")


@pytest.mark.postgres
def test_the_batch_job_runs_in_the_service_image_on_postgresql(service, data):
    if not PG_URL:
        why = "set LIFECYCLE_LAB_PG_URL (.ci/run does) to run the image's batch job against PostgreSQL"
        if os.environ.get("LIFECYCLE_LAB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"LIFECYCLE_LAB_REQUIRE_POSTGRES=1 but {why}")
        pytest.skip(why)
    from sqlalchemy import create_engine

    from lifecycle_lab.projects.p01_tickets import batch

    engine = create_engine(PG_URL)
    batch._tables()[0].drop_all(engine)  # empty tables: the counts below are this run's alone
    engine.dispose()
    folder, frame, model = data
    report = _batch_in_image(service, PG_URL)  # the image's network is the host's: 127.0.0.1 is the server
    _check_batch(report, frame, model, PG_URL)


@pytest.fixture(scope="module")
def service_url(service, data):
    """The API served from the service image (its default command's options, on a free port of 127.0.0.1)."""
    import httpx

    from lifecycle_lab.projects.p01_tickets.api import free_port

    folder = data[0]
    port = free_port()
    with open(folder / "serve.txt", "w") as out:
        proc = service.popen("lifecycle-lab", "serve", "--model", "/data/model", "--host", "127.0.0.1", "--port", port,
                         "--log", "/data/predictions.jsonl", stdout=out)
        try:
            url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
            while True:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, (folder / "serve.txt").read_text()[-3000:]
                assert time.monotonic() < deadline, "the API in the image did not answer within 120 s"
                time.sleep(0.5)
            yield url
        finally:
            images.Container.stop(proc)


def test_the_api_runs_in_the_service_image_and_answers_the_host(service_url, data):
    import httpx

    folder, _, model = data
    assert httpx.get(service_url + "/health").json() == {"status": "ok", "model_version": "7"}
    text = "I was charged twice for my subscription, please refund"
    answer = httpx.post(service_url + "/predict", json={"text": text, "ticket_id": 5}).json()
    proba = model.predict_proba([text])[0]
    assert answer["predicted_class"] == model.classes_[proba.argmax()]
    assert answer["confidence"] == pytest.approx(proba.max(), abs=1e-6)
    assert answer["needs_review"] == (proba.max() < THRESHOLD) and answer["ticket_id"] == 5
    refused = httpx.post(service_url + "/predict", json={"text": ""})
    assert refused.status_code == 422 and "text" in refused.json()["error"]
    logged = [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]
    assert logged[-1]["ticket_id"] == 5  # written by the service in the image, read on the host


def _newman():
    if not NEWMAN.exists() or shutil.which("node") is None:
        _unavailable("newman is not installed: `make env` runs `npm ci` (apt-get install nodejs npm first)")
    return str(NEWMAN)


def test_the_postman_collection_passes_against_the_service_image(service_url, tmp_path):
    """Every request of the collection is sent and every assertion of its test scripts passes (newman's own
    JSON report); each refusal is a 4xx with an error message, never a 500."""
    report = tmp_path / "newman.json"
    done = subprocess.run([_newman(), "run", str(COLLECTION), "--env-var", f"baseUrl={service_url}",
                           "--reporters", "cli,json", "--reporter-json-export", str(report), "--color", "off"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    run = json.loads(report.read_text())["run"]
    stats = run["stats"]
    assert stats["requests"]["total"] == 13 and stats["requests"]["failed"] == 0
    assert stats["assertions"]["total"] >= 40 and stats["assertions"]["failed"] == 0
    codes = {e["item"]["name"]: e["response"]["code"] for e in run["executions"]}
    assert all(code < 500 for code in codes.values())
    assert {n: c for n, c in codes.items() if n.startswith("refused")} == {
        "refused: empty text": 422, "refused: text over the limit": 422, "refused: unknown field": 422,
        "refused: text is a number": 422, "refused: body is not JSON": 422, "refused: empty batch": 422,
        "refused: no such path": 404, "refused: wrong method": 405}


def test_the_collection_fails_when_the_service_answers_wrongly(service_url, tmp_path):
    """The collection can fail: with one more assertion, that the served version is 8 (it is 7), newman exits
    non-zero and counts exactly that one failed assertion."""
    collection = json.loads(COLLECTION.read_text())
    health = collection["item"][0]["item"][0]
    health["event"][0]["script"]["exec"].append('pm.test("expects version 8", () => '
                                                'pm.expect(pm.response.json().model_version).to.eql("8"));')
    (tmp_path / "c.json").write_text(json.dumps(collection))
    done = subprocess.run([_newman(), "run", str(tmp_path / "c.json"), "--env-var", f"baseUrl={service_url}",
                           "--reporters", "json", "--reporter-json-export", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert json.loads((tmp_path / "r.json").read_text())["run"]["stats"]["assertions"]["failed"] == 1


def test_notebook_00_runs_in_the_workbook_image(workbook):
    done = workbook.run("lifecycle-lab", "run", "00", "--fast", "--no-progress", "--out", "/tmp/run00",
                        env={"LIFECYCLE_LAB_OFFLINE": "1", "MPLBACKEND": "Agg"}, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    listing = workbook.run("sh", "-c", "ls /tmp/run00")
    assert "00_start_here.ipynb" in listing.stdout, listing.stdout + listing.stderr


# -- .dockerignore: the digest's file list is what buildah copies ----------------------------------------------

def _tools_or_skip():
    if images.missing_tools():
        _unavailable(f"{', '.join(images.missing_tools())} not installed (apt-get install podman buildah mmdebstrap)")
    if os.geteuid() != 0:
        _unavailable("the image builds run as root here (mmdebstrap, podman with the vfs driver)")


IGNORE_CASES = {
    "files": ["a.db", "sub/b.db", "logs/1.log", "logs/keep.txt", "x/__pycache__/m.pyc", "__pycache__/n.pyc",
              "README.md", "NOTES.md", "sub/NOTES.md", "docs/secret", "docs/a/b/secret", "docs/a/readme", "build/out",
              "q.tmp", "keep/inner/z.tmp", "Case.DB", "src/pkg.egg-info/PKG-INFO", "src/pkg/m.py", "sp ace.txt",
              "c/keep", "c/other", "c/d/f", "e/c/g", "s/keep.txt", "s/deeper/keep.txt", "s/x", "a1.txt", "b1.txt",
              "c1.txt", ".hidden/h"],
    "patterns": [
        ["# comment", "*.db", "**/__pycache__", "logs", "!logs/keep.txt", "*.md", "!README.md", "docs/**/secret",
         "build/", "**/*.tmp", "!keep/**", "src/*.egg-info", " .hidden", "./sub/deep/../NOTES.md"],
        ["**/c", "!c/keep", "!c/d", "s/**", "!**/keep.txt", "?1.txt", "![ab]1.txt", ".dockerignore"],
        ["*", "!src", "src/**/*.py", "!src/pkg/m.py", "/docs/a"],
    ],
}


@pytest.mark.parametrize("case", range(len(IGNORE_CASES["patterns"])))
def test_context_files_are_what_buildah_copies(case, tmp_path):
    """Oracle: buildah itself. A context with tricky names and a .dockerignore (negation, `**`, root-only `*`,
    `?` and classes, cleaned paths, comments) is copied whole into an image (`FROM scratch`, `COPY . /ctx/`);
    the files in the image are exactly images.context_files of that folder."""
    _tools_or_skip()
    ctx = tmp_path / "ctx"
    for name in IGNORE_CASES["files"]:
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(name)
    (ctx / ".dockerignore").write_text("\n".join(IGNORE_CASES["patterns"][case]) + "\n")
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
    tag = f"localhost/lifecycle-lab-ignore-test:{case}"
    images.podman("build", "--isolation", "chroot", "-f", tmp_path / "Containerfile", "-t", tag, ctx)
    try:
        root = images.podman("image", "mount", tag).stdout.strip()
        copied = sorted(p.relative_to(f"{root}/ctx").as_posix() for p in Path(root, "ctx").rglob("*")
                        if p.is_file() or p.is_symlink())
        images.podman("image", "unmount", tag, check=False)
    finally:
        images.podman("rmi", "-f", tag, check=False)
    assert copied == images.context_files(ctx)
    assert 0 < len(copied) < len(IGNORE_CASES["files"])  # the patterns left some out and kept some


# -- dask: the batch job on a dask.distributed cluster, all of it in the service image --------------------------

def _wait_for_dask_worker(address, procs, log, timeout=180):
    """Until the scheduler in the image has a worker (asked from the host, over 127.0.0.1): the batch job's own
    wait is 10 s, less than starting both in a container takes on a busy machine."""
    import warnings

    from distributed import Client
    from distributed.versions import VersionMismatchWarning

    deadline = time.monotonic() + timeout
    while True:
        assert all(p.poll() is None for p in procs), log.read_text()[-3000:]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", VersionMismatchWarning)  # the host runs 3.11.7, the image 3.11.2
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(1, timeout=max(1, deadline - time.monotonic()))
                    return
        except (OSError, TimeoutError):
            assert time.monotonic() < deadline, f"no dask worker within {timeout} s: {log.read_text()[-3000:]}"
            time.sleep(1)


def test_the_dask_batch_runs_in_the_service_image(service, data):
    """`dask scheduler` and `dask worker` run from the image (on 127.0.0.1), and `lifecycle-lab batch --engine dask
    --scheduler ...` in the image scores the file on them: same rows and predictions as the host's model."""
    from lifecycle_lab.projects.p01_tickets.api import free_port

    folder, frame, model = data
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    with open(folder / "dask.txt", "w") as out:
        scheduler = service.popen("dask", "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard",
                                  stdout=out)
        worker = service.popen("dask", "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                               "--local-directory", "/tmp/dask-worker", stdout=out)
        try:
            _wait_for_dask_worker(address, [scheduler, worker], folder / "dask.txt")
            done = service.run("lifecycle-lab", "batch", "/data/in.csv", "--db", "sqlite:////data/dask.db",
                               "--create-db", "--model", "/data/model", "--engine", "dask", "--scheduler", address,
                               env={"LIFECYCLE_LAB_OFFLINE": "1"}, timeout=400)
        finally:
            images.Container.stop(worker)
            images.Container.stop(scheduler)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:] + (folder / "dask.txt").read_text()[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["engine"] == "dask"
    _check_batch(report, frame, model, f"sqlite:///{folder / 'dask.db'}")


# -- the README's Docker commands, run with podman ----------------------------------------------------------------

def _podman_as_docker(tmp_path):
    """An environment where `docker` is podman (CLI-compatible), under the containers.conf that lets `podman
    run` work here (images.RUN_CONF: runc, no default rlimits)."""
    why = images.podman_run_works()
    if why:
        _unavailable(f"`podman run` does not work here even with {images.run_env()['CONTAINERS_CONF']}: {why}")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "docker").write_text('#!/bin/sh\nexec podman "$@"\n')
    (shim / "docker").chmod(0o755)
    env = images.run_env()
    return {**env, "PATH": f"{shim}:{env['PATH']}"}


def _serve_and_wait(cmd, cwd, env, url, out, timeout=300):
    proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = httpx.get(url, timeout=2, follow_redirects=True)
            if answer.status_code == 200:
                return proc, answer
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            images.Container.stop(proc)
            out.flush()
            pytest.fail(f"`{cmd}` did not answer on {url} within {timeout} s: {Path(out.name).read_text()[-3000:]}")
        time.sleep(1)


def _host_port(cmd, inside):
    """The command with a free port of this machine for `-p N:inside` (another session may hold N here)."""
    from lifecycle_lab.projects.p01_tickets.api import free_port

    port = free_port()
    assert f"-p {inside}:{inside}" in cmd, cmd
    return cmd.replace(f"-p {inside}:{inside}", f"-p {port}:{inside}"), port


def test_the_readmes_docker_run_commands_work_with_podman(service_image, data, tmp_path):
    """Each `docker run` of the service in README.md, verbatim but for the host port, with `docker` being
    podman: the API answers the README's newman run of the Postman collection, the batch job writes the
    file's predictions into SQLite in the mounted folder (oracle: the host's model)."""
    env = _podman_as_docker(tmp_path)
    folder, frame, model = data
    work = tmp_path / "work"
    shutil.copytree(folder / "model", work / "models" / "current")  # what `lifecycle-lab export-model` writes
    (work / "data").mkdir()
    shutil.copy(folder / "in.csv", work / "data" / "tickets.csv")
    cmds = readme_commands()
    api = next(c for c in cmds["run"] if "lifecycle-lab-service" in c and " batch " not in c)
    api, port = _host_port(api, 8000)
    with open(tmp_path / "api.txt", "w") as out:
        proc, _ = _serve_and_wait(api, work, env, f"http://127.0.0.1:{port}/health", out)
        try:
            newman = cmds["newman"].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            _newman()
            done = subprocess.run(["bash", "-c", newman + " --color off"], cwd=paths.ROOT, env=env,
                                  capture_output=True, text=True, timeout=180)
            assert done.returncode == 0, done.stdout[-4000:]  # newman exits non-zero on any failed assertion
            assert re.search(r"assertions\s*│\s*4\d\s*│\s*0\s*│", done.stdout), done.stdout[-3000:]
        finally:
            images.Container.stop(proc, timeout=60)
    batch = next(c for c in cmds["run"] if " batch " in c)
    done = subprocess.run(["bash", "-c", batch], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    _check_batch(report, frame, model, f"sqlite:///{work / 'data' / 'tickets.db'}")


def test_the_readmes_workbook_docker_run_serves_jupyterlab(workbook_image, tmp_path):
    """`docker run --rm -p 8888:8888 lifecycle-lab` from README.md (host port aside), with podman: JupyterLab
    answers, as the learner (uid 1000), with the workbook's offline settings in the environment."""
    env = _podman_as_docker(tmp_path)
    (run,) = [c for c in readme_commands()["run"] if c.split()[-1] == "lifecycle-lab"]
    run, port = _host_port(run, 8888)
    with open(tmp_path / "lab.txt", "w") as out:
        proc, answer = _serve_and_wait(run, tmp_path, env, f"http://127.0.0.1:{port}/lab", out)
        try:
            assert "jupyter" in answer.text.lower()
        finally:
            images.Container.stop(proc, timeout=120)
    log = (tmp_path / "lab.txt").read_text()
    assert "Jupyter Server" in log and "Permission denied" not in log, log[-3000:]
