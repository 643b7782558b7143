"""The sentiment artifact served by the workbook's one service and one batch job, driven through the command line.

Why through the CLI: there is no second copy of the API or the batch job for reviews. `lifecycle-lab serve
--model FOLDER` and `lifecycle-lab batch FILE --model FOLDER` load any verified artifact whose pipeline takes
texts and has `predict_proba` (the classes and the review threshold come from the artifact), and projects never
import each other, so this module starts those commands as processes, exactly as a scheduler or a container
would. The service's request schema was written for tickets: a review's id travels in its `ticket_id` field
(any client id, echoed back and logged), and the batch input's id column is named `ticket_id` too.

Only 127.0.0.1: requests never leave the machine.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from lifecycle_lab.base.errors import LifecycleLabError

ID_FIELD = "ticket_id"
"""The id field of the shared service's request schema and of the batch job's input (a client id)."""


class ServingError(LifecycleLabError, RuntimeError):
    """The service or the batch job could not be started or did not answer; the message has its output."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "lifecycle_lab", *args]


class Service:
    """`lifecycle-lab serve --model ARTIFACT --log LOG` on a free port of 127.0.0.1; a context manager.

    The server's own output goes to `<log>.server.txt` (a pipe nobody reads would block it once full)."""

    def __init__(self, artifact, log_path, *, timeout: float = 90):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = _cli("serve", "--model", str(artifact), "--log", str(log_path), "--port", str(self.port))
        self.output = Path(f"{log_path}.server.txt")
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Service":
        import httpx

        self.output.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output, "w") as out:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServingError(f"`lifecycle-lab serve` exited with code {self.proc.returncode}: "
                                   f"{self.output.read_text(errors='replace')[-1500:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__()
        raise ServingError(f"the service did not answer on {self.url}/health within {self.timeout} s")

    def __exit__(self, *exc) -> bool:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
        return False


def send_requests(url: str, reviews, *, text: str = "text", review_id: str = "review_id") -> "object":
    """The request script: POST each review to /predict, one request each; a DataFrame of what came back
    (request_id, review_id, model_version, predicted_label, confidence, needs_review)."""
    import httpx
    import pandas as pd

    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ServingError(f"requests go to a service on this machine only, got {url}")
    rows = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for rid, body in zip(reviews[review_id], reviews[text]):
            response = client.post("/predict", json={ID_FIELD: str(rid), "text": str(body)})
            if response.status_code != 200:
                raise ServingError(f"review {rid!r} got HTTP {response.status_code}: {response.text[:300]}")
            answer = response.json()
            rows.append({"request_id": answer["request_id"], "review_id": str(answer[ID_FIELD]),
                         "model_version": answer["model_version"], "predicted_label": answer["predicted_class"],
                         "confidence": float(answer["confidence"]), "needs_review": bool(answer["needs_review"])})
    return pd.DataFrame(rows)


def write_batch_input(reviews, path, *, text: str = "text", review_id: str = "review_id") -> Path:
    """The reviews as the batch job's input CSV (columns ticket_id, text)."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({ID_FIELD: reviews[review_id].astype(str), "text": reviews[text]}).to_csv(path, index=False)
    return path


def run_batch(input_path, db_url: str, artifact, *, ledger) -> dict:
    """`lifecycle-lab batch INPUT --db URL --create-db --model ARTIFACT`: the run's JSON report (exit code 0),
    else ServingError with the job's own message."""
    command = _cli("batch", str(input_path), "--db", db_url, "--create-db", "--model", str(artifact),
                   "--runs-ledger", str(ledger))
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ServingError(f"`lifecycle-lab batch` failed (exit code {done.returncode}): "
                           f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.stdout[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_predictions(db_url: str, run_id: str | None = None) -> "object":
    """The batch database's predictions (review_id, model_version, predicted_label, confidence, run_id)."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    query = ("SELECT ticket_id AS review_id, model_version, predicted_class AS predicted_label, confidence, run_id "
             "FROM predictions" + (" WHERE run_id = :run" if run_id else "") + " ORDER BY ticket_id")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return pd.read_sql(text(query), conn, params={"run": run_id} if run_id else None)
    finally:
        engine.dispose()
