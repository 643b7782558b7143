"""The ticket classifier as a REST service (FastAPI): predict one, predict many, health, model info, metrics.

Why these endpoints: `/health` lets a load balancer or scheduler know the service is up; `/model` says
which artifact answers (version, data hash, checksum, review threshold); `/metrics` exposes counters and a
request-latency histogram in Prometheus text format so any monitoring stack can scrape them. Every
prediction is appended to a JSON-lines log (request_id, model_version, class, confidence, and two
latencies: `model_ms`, the model call alone, and `request_ms`, from the request entering the app to its
response being ready: validation, model, JSON): the raw material of monitoring.
Inputs are validated with the same ticket schema as training and the batch job; bad input gets a 422
with a message that says what to fix, never a 500. An unexpected error is logged with its traceback
(logger `lifecycle_lab.projects.p01_tickets.api`) and answered with a 500 that names only its type.

No `from __future__ import annotations` here: FastAPI reads the request models from real annotations.
FastAPI, pydantic and the model are imported inside `create_app`.
"""

import json
import logging
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from lifecycle_lab.deployment.registry import load_artifact, serving_threshold
from lifecycle_lab.projects.p01_tickets.schema import MAX_ID, MAX_ID_CHARS, check_value, ticket_schema

# What check_value accepts, stated in the published OpenAPI schema (a client generator or a fuzzer reads
# it): at least one non-space character, no NUL. The validators below enforce it with check_value's messages.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0)
MAX_BATCH = 1000

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


class PredictionLog:
    """Append-only JSON-lines log, one line per prediction; thread-safe."""

    def __init__(self, path):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, records: list) -> None:
        if not self.path or not records:
            return
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(lines)


class Metrics:
    """Counters and a latency histogram, rendered in Prometheus text exposition format 0.0.4."""

    def __init__(self, classes, model_version: str):
        self.classes = list(classes)
        self.version = model_version
        self.lock = threading.Lock()
        self.requests: dict = {}
        self.predictions = {c: 0 for c in self.classes}
        self.low_confidence = 0
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0

    def request(self, path: str, status: int) -> None:
        with self.lock:
            key = (path, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1

    def predicted(self, classes: list, low: int, seconds: float) -> None:
        """Count one prediction request: its predicted classes, how many go to review, its request time."""
        with self.lock:
            for c in classes:
                self.predictions[c] += 1
            self.low_confidence += low
            for i, edge in enumerate(LATENCY_BUCKETS):
                if seconds <= edge:
                    self.buckets[i] += 1
            self.latency_sum += seconds
            self.latency_count += 1

    def render(self) -> str:
        with self.lock:
            out = ["# HELP tickets_model_info The model version being served.", "# TYPE tickets_model_info gauge",
                   f'tickets_model_info{{version="{self.version}"}} 1',
                   "# HELP tickets_http_requests_total HTTP requests by path and status code.",
                   "# TYPE tickets_http_requests_total counter"]
            out += [f'tickets_http_requests_total{{path="{p}",status="{s}"}} {n}'
                    for (p, s), n in sorted(self.requests.items())]
            out += ["# HELP tickets_predictions_total Predictions served, by predicted class.",
                    "# TYPE tickets_predictions_total counter"]
            out += [f'tickets_predictions_total{{predicted_class="{c}"}} {n}' for c, n in self.predictions.items()]
            out += ["# HELP tickets_low_confidence_total Predictions below the review threshold (sent to a human).",
                    "# TYPE tickets_low_confidence_total counter", f"tickets_low_confidence_total {self.low_confidence}",
                    "# HELP tickets_predict_latency_seconds Time from a prediction request entering the app to its "
                   "response being ready (validation, model, JSON); excludes the network.",
                    "# TYPE tickets_predict_latency_seconds histogram"]
            out += [f'tickets_predict_latency_seconds_bucket{{le="{edge}"}} {n}'
                    for edge, n in zip(LATENCY_BUCKETS, self.buckets)]
            out += [f'tickets_predict_latency_seconds_bucket{{le="+Inf"}} {self.latency_count}',
                    f"tickets_predict_latency_seconds_sum {self.latency_sum:.6f}",
                    f"tickets_predict_latency_seconds_count {self.latency_count}"]
        return "\n".join(out) + "\n"


def _printable(text: str) -> str:
    """Text that can be written as UTF-8 (a lone surrogate in a field name would break the error response)."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def create_app(artifact_dir, *, log_path=None, review_threshold=None, expected_version=None):
    """The FastAPI app serving a verified artifact (a tampered one is refused here, before serving).

    review_threshold=None serves with the threshold recorded in the artifact.
    """
    from typing import Annotated, List, Optional, Union

    import numpy as np
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, PlainTextResponse
    from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, WithJsonSchema, field_validator
    from starlette.exceptions import HTTPException as StarletteHTTPException


    model, meta = load_artifact(artifact_dir, expected_version=expected_version)
    review_threshold = serving_threshold(meta, review_threshold)
    schema = ticket_schema(labelled=False)
    text_rule, id_rule = schema.column("text"), schema.column("ticket_id")
    classes = np.asarray(model.classes_)
    predictions = PredictionLog(log_path)
    metrics = Metrics(meta.classes, meta.version)
    log.info("serving %s version %s (sha256 %s...), review threshold %.4f", meta.name, meta.version,
             meta.sha256[:12], review_threshold)

    class Ticket(BaseModel):
        model_config = ConfigDict(extra="forbid")
        text: StrictStr = Field(description=f"the ticket text, 1 to {text_rule.max_chars} characters, not only "
                                            f"spaces, no NUL", json_schema_extra={
                                                "minLength": 1, "maxLength": text_rule.max_chars,
                                                "pattern": TEXT_PATTERN})
        ticket_id: Optional[Union[
            Annotated[StrictStr, Field(json_schema_extra={"minLength": 1, "maxLength": MAX_ID_CHARS,
                                                          "pattern": TEXT_PATTERN})],
            # JSON Schema's "integer" includes 3064.0: accepted, and echoed back as 3064
            Annotated[Union[StrictInt, StrictFloat], WithJsonSchema({"type": "integer", "minimum": -MAX_ID,
                                                                      "maximum": MAX_ID})],
        ]] = Field(default=None, description=f"your id (1 to {MAX_ID_CHARS} characters, or a whole number of "
                                             f"at most {len(str(MAX_ID))} digits), echoed back")

        @field_validator("text")
        @classmethod
        def _text(cls, value):
            problem = check_value(text_rule, value)  # the schema's rule, as in training and the batch job
            if problem:
                raise ValueError(problem)
            return value

        @field_validator("ticket_id")
        @classmethod
        def _id(cls, value):
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"ticket_id must be text or a whole number, got {value!r}")
                value = int(value)
            problem = None if value is None else check_value(id_rule, value)
            if problem:
                raise ValueError(problem)
            return value

    class TicketBatch(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tickets: List[Ticket] = Field(min_length=1, max_length=MAX_BATCH)

    class ErrorDetail(BaseModel):
        loc: str = Field(description="where in the request, e.g. tickets.0.text")
        msg: str = Field(description="what is wrong and how to fix it")
        type: str

    class ErrorBody(BaseModel):
        error: str = Field(description="one line saying what was wrong with the request")
        detail: List[ErrorDetail] = Field(default_factory=list)

    refusals = {422: {"model": ErrorBody, "description": "the request breaks the ticket schema (the message says how)"},
                400: {"model": ErrorBody, "description": "the body could not be read (not JSON, wrong content type)"}}
    app = FastAPI(title="Lifecycle Lab ticket classifier", version=meta.version)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse(status_code=exc.status_code, headers=getattr(exc, "headers", None),
                            content={"error": _printable(str(exc.detail)), "detail": []})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        details = []
        for err in exc.errors():
            loc = _printable(".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body")
            msg = _printable(str(err.get("msg", "invalid")).removeprefix("Value error, "))
            details.append({"loc": loc, "msg": msg, "type": err.get("type", "")})
        summary = "; ".join(f"{d['loc']}: {d['msg']}" for d in details[:5])
        return JSONResponse(status_code=422, content={"error": f"invalid request: {summary}", "detail": details})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # a bug, not bad input: keep the traceback in the service log, tell the client only the type
        log.error("unexpected error on %s %s", request.method, _printable(request.url.path),
                  exc_info=(type(exc), exc, exc.__traceback__))
        return JSONResponse(status_code=500, content={"error": f"internal error: {type(exc).__name__}"})

    @app.middleware("http")
    async def _count_and_log(request: Request, call_next):
        start = time.perf_counter()
        path = request.url.path if request.url.path in _PATHS else "other"
        try:
            response = await call_next(request)
        except Exception:
            metrics.request(path, 500)  # the exception handler answers 500 and logs the traceback
            raise
        seconds = time.perf_counter() - start
        records = getattr(request.state, "predictions", None)  # set by _score once the answer is ready
        if records and response.status_code == 200:
            for r in records:
                r["request_ms"] = round(seconds * 1000, 4)
            predictions.write(records)
            metrics.predicted([r["predicted_class"] for r in records],
                              sum(r["confidence"] < review_threshold for r in records), seconds)
        metrics.request(path, response.status_code)
        return response

    def _score(request, items):
        start = time.perf_counter()
        proba = model.predict_proba([t.text for t in items])
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(best)), best]
        model_ms = round((time.perf_counter() - start) * 1000, 4)
        request_id = uuid.uuid4().hex
        results, records = [], []
        for i, t in enumerate(items):
            cls, c = str(classes[best[i]]), float(conf[i])
            result = {"request_id": request_id if len(items) == 1 else f"{request_id}-{i}", "ticket_id": t.ticket_id,
                      "model_version": meta.version, "predicted_class": cls, "confidence": round(c, 6),
                      "needs_review": c < review_threshold,
                      "probabilities": {str(k): round(float(p), 6) for k, p in zip(classes, proba[i])}}
            results.append(result)
            records.append({"request_id": result["request_id"], "ticket_id": t.ticket_id, "model_version": meta.version,
                            "predicted_class": cls, "confidence": round(c, 6), "batch_size": len(items),
                            "model_ms": model_ms, "ts": time.time()})
        request.state.predictions = records  # the middleware adds request_ms, then logs and counts them
        return results

    @app.post("/predict", responses=refusals)
    def predict(ticket: Ticket, request: Request):
        """Classify one ticket."""
        return _score(request, [ticket])[0]

    @app.post("/predict/batch", responses=refusals)
    def predict_batch(batch: TicketBatch, request: Request):
        """Classify up to 1,000 tickets in one call."""
        return {"predictions": _score(request, batch.tickets)}

    @app.get("/health")
    def health():
        return {"status": "ok", "model_version": meta.version}

    @app.get("/model")
    def model_info():
        return {"name": meta.name, "version": meta.version, "classes": meta.classes,
                "training_data_sha256": meta.training_data_sha256, "seed": meta.seed, "sha256": meta.sha256,
                "libraries": meta.libraries, "metrics": meta.metrics, "review_threshold": review_threshold}

    @app.get("/metrics", response_class=PlainTextResponse)
    def prometheus():
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    return app


_PATHS = {"/predict", "/predict/batch", "/health", "/model", "/metrics"}


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it), so two notebooks never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real uvicorn process serving an artifact on 127.0.0.1; a context manager that stops it.

    The server's own output (uvicorn, the service log) goes to a file beside the prediction log
    (`<log>.server.txt`), not to a pipe nobody reads, which would block the server once full.
    """

    def __init__(self, artifact_dir, log_path, *, port=None, review_threshold=None, timeout: float = 90):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["serve", "--model", str(artifact_dir), "--log", str(log_path), "--port", str(self.port)]
        if review_threshold is not None:
            self.args += ["--review-threshold", str(review_threshold)]
        self.output = Path(f"{log_path}.server.txt")
        self.timeout = timeout
        self.proc = None

    def __enter__(self):
        import subprocess
        import sys

        import httpx

        self.output.parent.mkdir(parents=True, exist_ok=True)
        with open(self.output, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "lifecycle_lab", *self.args],
                                         stdout=out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.output.read_text(errors="replace")
                raise RuntimeError(f"the server exited with code {self.proc.returncode}: {output[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError(f"the server did not answer on {self.url}/health within {self.timeout} s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except Exception:  # pragma: no cover
                self.proc.kill()
        return False


def load_test(url: str, texts: list, n_requests: int, *, warmup: int = 50, path: str = "/predict") -> list:
    """Send n_requests (after `warmup` unmeasured ones) one at a time; return client-side latencies in ms.

    Only 127.0.0.1: the workbook never sends traffic off the machine.
    """
    import httpx

    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ValueError(f"load tests run against localhost only, got {url}")
    latencies = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(warmup + n_requests):
            body = {"ticket_id": f"load-{i}", "text": texts[i % len(texts)]} if path == "/predict" else None
            start = time.perf_counter()
            response = client.post(path, json=body) if body is not None else client.get(path)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"request {i} got HTTP {response.status_code}: {response.text[:300]}")
            if i >= warmup:
                latencies.append(elapsed)
    return latencies


def read_log(path) -> "Any":
    """The prediction log as a DataFrame (one row per prediction)."""
    import pandas as pd

    return pd.read_json(path, lines=True, dtype={"ticket_id": str, "request_id": str})
