"""The monitoring stack for real: Prometheus scrapes the API's /metrics and a Pushgateway the batch job pushes
its runs to; an alert rule on a failed run fires and reaches Alertmanager; the dashboard's runs come back
from Prometheus' HTTP API.

Debian's `prometheus`, `prometheus-pushgateway` and `prometheus-alertmanager` run here as our own processes
on free loopback ports with temporary configs (the packages' systemd services are not used). Absent binaries
skip the test locally; with LIFECYCLE_LAB_REQUIRE_PROMETHEUS=1 (CI sets it) they fail it instead.
Nothing here asserts a time: every wait is a poll with a deadline that only bounds how long a failure takes.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from urllib.request import urlopen

import pytest

from helpers import free_port, ticket_artifact
from lifecycle_lab.monitoring import dashboard
from lifecycle_lab.monitoring import prometheus as prom
from lifecycle_lab.projects.p01_tickets import api
from lifecycle_lab.projects.p01_tickets import world as tickets

BINARIES = {"prometheus": "prometheus", "pushgateway": "prometheus-pushgateway",
            "alertmanager": "prometheus-alertmanager"}
REQUIRE = os.environ.get("LIFECYCLE_LAB_REQUIRE_PROMETHEUS") == "1"


def _binaries() -> dict:
    found = {k: shutil.which(v) for k, v in BINARIES.items()}
    missing = [BINARIES[k] for k, v in found.items() if not v]
    if missing:
        why = f"{', '.join(missing)} not installed (apt-get install prometheus prometheus-pushgateway " \
              f"prometheus-alertmanager)"
        if REQUIRE:
            pytest.fail(f"LIFECYCLE_LAB_REQUIRE_PROMETHEUS=1 but {why}")
        pytest.skip(why)
    return found


def _json(url: str):
    with urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _until(what: str, probe, deadline_s: float = 90, procs=()):
    """Poll `probe()` until it returns something truthy; fail naming `what` (and any dead process) if not."""
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        for name, proc, log in procs:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}: {log.read_text()[-1500:]}")
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}; last answer: {last!r}")


RULES = """
groups:
  - name: tickets-batch
    rules:
      - alert: BatchRunFailed
        expr: batch_run_success{job="tickets_batch"} == 0
        labels: {severity: page}
        annotations: {summary: "the nightly ticket batch run failed"}
      - alert: BatchVolumeAbnormal
        expr: batch_run_success{job="tickets_batch"} == 1 and batch_rows_written{job="tickets_batch"} < 50
        labels: {severity: ticket}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    bins = _binaries()
    tmp = tmp_path_factory.mktemp("prom")
    artifact = ticket_artifact(tmp / "model", seed=3, n_tickets=300, version="5", review_threshold=0.6)[0]
    ports = {k: free_port() for k in ("prometheus", "pushgateway", "alertmanager")}
    url = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
    procs = []
    server = api.Server(artifact, tmp / "served.jsonl")
    server.__enter__()
    try:
        (tmp / "alertmanager.yml").write_text(
            "route: {receiver: 'null', group_wait: 0s, group_interval: 1s, repeat_interval: 1h}\n"
            "receivers: [{name: 'null'}]\n")
        (tmp / "rules.yml").write_text(RULES)
        (tmp / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{tmp / 'rules.yml'}]
alerting:
  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{ports['alertmanager']}']}}]}}]
scrape_configs:
  - job_name: tickets_api
    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]
  - job_name: pushgateway
    honor_labels: true
    static_configs: [{{targets: ['127.0.0.1:{ports['pushgateway']}']}}]
""")
        commands = {
            # Debian's build persists pushes to /var/lib/prometheus/pushgateway.data by default: an empty
            # file name keeps them in memory, so one run's pushes never reach the next run's gateway
            "pushgateway": [bins["pushgateway"], f"--web.listen-address=127.0.0.1:{ports['pushgateway']}",
                            "--persistence.file="],
            "alertmanager": [bins["alertmanager"], f"--config.file={tmp / 'alertmanager.yml'}",
                             f"--storage.path={tmp / 'am-data'}", "--cluster.listen-address=",
                             f"--web.listen-address=127.0.0.1:{ports['alertmanager']}"],
            "prometheus": [bins["prometheus"], f"--config.file={tmp / 'prometheus.yml'}",
                           f"--storage.tsdb.path={tmp / 'prom-data'}",
                           f"--web.listen-address=127.0.0.1:{ports['prometheus']}"],
        }
        for name, cmd in commands.items():
            log = tmp / f"{name}.log"
            with open(log, "w") as out:
                procs.append((name, subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT), log))
        _until("Prometheus ready", lambda: urlopen(url["prometheus"] + "/-/ready", timeout=2).status == 200,
               procs=procs)
        _until("Alertmanager ready", lambda: urlopen(url["alertmanager"] + "/-/ready", timeout=2).status == 200,
               procs=procs)
        yield {"url": url, "api": server, "artifact": artifact, "tmp": tmp, "procs": procs}
    finally:
        for _, proc, _ in procs:
            proc.terminate()
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
        server.__exit__()


def _batch(stack, csv, db, *extra):
    return subprocess.run([sys.executable, "-m", "lifecycle_lab", "batch", str(csv), "--db", db, "--model",
                           str(stack["artifact"]), "--workers", "1", "--runs-ledger", str(stack["tmp"] / "ledger.jsonl"),
                           "--pushgateway", stack["url"]["pushgateway"], *extra],
                          capture_output=True, text=True, timeout=300)


def test_prometheus_scrapes_the_api_and_the_pushed_runs_and_a_failed_run_pages(stack):
    url, procs = stack["url"], stack["procs"]
    texts = tickets.generate(seed=4, n_tickets=12)["text"].tolist()
    import httpx

    for i, text in enumerate(texts):
        assert httpx.post(stack["api"].url + "/predict", json={"ticket_id": i, "text": text}).status_code == 200
    # the API, scraped: Prometheus' count of predictions equals the requests sent
    served = _until("the API's predictions in Prometheus",
                    lambda: sum(r["value"] for r in prom.query(url["prometheus"], "tickets_predictions_total"))
                    == len(texts), procs=procs)
    assert served

    # a good run, pushed by the batch job's own command
    data = tickets.generate(seed=5, n_tickets=120)[["ticket_id", "text"]]
    csv = stack["tmp"] / "night1.csv"
    data.to_csv(csv, index=False)
    db = f"sqlite:///{stack['tmp'] / 'batch.db'}"
    done = _batch(stack, csv, db, "--create-db")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    written = _until("the pushed run in Prometheus", lambda: prom.query(
        url["prometheus"], 'batch_rows_written{job="tickets_batch"}'), procs=procs)
    assert written[0]["value"] == report["rows_written"] == 120
    assert written[0]["metric"]["model_version"] == "5"

    # a failed run (its database does not exist): pushed as success 0, and the rule pages
    failed = _batch(stack, csv, f"sqlite:///{stack['tmp'] / 'missing.db'}")
    assert failed.returncode == 1 and json.loads(failed.stdout.strip().splitlines()[-1])["status"] == "failed"

    def firing():
        alerts = _json(url["alertmanager"] + "/api/v2/alerts")
        return [a for a in alerts if a["labels"].get("alertname") == "BatchRunFailed"]

    alerts = _until("BatchRunFailed to reach Alertmanager", firing, deadline_s=120, procs=procs)
    assert alerts[0]["labels"]["severity"] == "page" and alerts[0]["status"]["state"] == "active"
    assert "failed" in alerts[0]["annotations"]["summary"]
    rules = _json(url["prometheus"] + "/api/v1/alerts")["data"]["alerts"]
    assert {a["labels"]["alertname"] for a in rules if a["state"] == "firing"} == {"BatchRunFailed"}

    # the dashboard's runs, from Prometheus: the good run then the failed one
    source, runs = dashboard.runs_source(None, url["prometheus"], hours=1, )
    assert source == "prometheus"
    assert runs["status"].tolist() == ["succeeded", "failed"]
    assert runs["rows_written"].tolist() == [120, 0]


def test_an_abnormal_volume_fires_its_own_alert(stack):
    url, procs = stack["url"], stack["procs"]
    small = tickets.generate(seed=6, n_tickets=20)[["ticket_id", "text"]]
    csv = stack["tmp"] / "night-small.csv"
    small.to_csv(csv, index=False)
    done = _batch(stack, csv, f"sqlite:///{stack['tmp'] / 'batch.db'}")
    assert done.returncode == 0, done.stderr[-2000:]

    def firing():
        return [a for a in _json(url["alertmanager"] + "/api/v2/alerts")
                if a["labels"].get("alertname") == "BatchVolumeAbnormal"]

    alerts = _until("BatchVolumeAbnormal to reach Alertmanager", firing, deadline_s=120, procs=procs)
    assert alerts[0]["labels"]["severity"] == "ticket"
    value = prom.query(url["prometheus"], 'batch_rows_written{job="tickets_batch"}')[0]["value"]
    assert value == 20  # the run pushed its real volume, which is what tripped the rule
