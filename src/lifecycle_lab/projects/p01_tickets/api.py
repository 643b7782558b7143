"""The ticket classifier as a REST service (FastAPI): predict one, predict many, health, model info, metrics.

Why these endpoints: `/health` lets a load balancer or scheduler know the service is up; `/model` says
which artifact answers (version, data hash, checksum, review threshold); `/metrics` exposes counters and a
request-latency histogram in Prometheus text format so any monitoring stack can scrape them. Every
prediction is appended to a JSON-lines log (request_id, model_version, class, confidence, and two
latencies: `model_ms`, the model call alone, and `request_ms`, from the request entering the app to its
response being ready: validation, model, JSON): the raw material of monitoring.
Inputs are validated with the same ticket schema as training and the batch job; bad input gets a 422
with a message that says what to fix, never a 500.

Latency: the pipeline costs about the same for one text as for eight (its fixed cost per call dominates),
so concurrent requests are micro-batched (`deployment.batching.MicroBatcher`: at most `max_batch` texts,
at most `max_wait_ms` of waiting for company) and scored on a model thread of their own, so that the event
loop keeps reading and answering requests while the model works. The endpoints are `async`, the answer is
rendered once (no second encoding pass), and timing and status counting is a plain ASGI middleware.
Metrics are `prometheus_client` objects in a registry of the app's own. An unexpected error is logged with its traceback
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

from lifecycle_lab.deployment.batching import MicroBatcher
from lifecycle_lab.deployment.registry import load_artifact, serving_threshold
from lifecycle_lab.projects.p01_tickets.schema import MAX_ID, MAX_ID_CHARS, check_value, ticket_schema

# What check_value accepts, stated in the published OpenAPI schema (a client generator or a fuzzer reads
# it): at least one non-space character, no NUL. The validators below enforce it with check_value's messages.
TEXT_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0)
MAX_BATCH = 1000
MODEL_BATCH = 16        # texts per micro-batched model call (the pipeline's cost is flat up to about here)
# How long a lone request waits for others before its model call starts. 0: greedy, a call takes what is
# queued when the model thread is free; requests that arrive while it works form the next call. A wait buys
# nothing at light load (nobody comes) and costs a timer, which fires late on a busy machine.
MODEL_WAIT_MS = 0.0

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


class PredictionLog:
    """Append-only JSON-lines log, one line per prediction; thread-safe."""

    def __init__(self, path):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._fh = None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, records: list) -> None:
        """Append the records and flush (a reader sees them at once); the file stays open between calls."""
        if not self.path or not records:
            return
        lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        with self._lock:
            if self._fh is None:
                self._fh = open(self.path, "a", encoding="utf-8")
            self._fh.write(lines)
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class Metrics:
    """The service's Prometheus metrics (prometheus_client), in a registry of this app's own (two apps in one
    process, as in the tests, never share counters)."""

    def __init__(self, classes, model_version: str):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        Gauge("tickets_model_info", "The model version being served.", ["version"],
              registry=self.registry).labels(model_version).set(1)
        self.requests = Counter("tickets_http_requests", "HTTP requests by path and status code.",
                                ["path", "status"], registry=self.registry)
        self.predictions = Counter("tickets_predictions", "Predictions served, by predicted class.",
                                   ["predicted_class"], registry=self.registry)
        for c in classes:
            self.predictions.labels(c)  # every class is exported from the start, at 0
        self.low_confidence = Counter("tickets_low_confidence",
                                      "Predictions below the review threshold (sent to a human).",
                                      registry=self.registry)
        self.latency = Histogram("tickets_predict_latency_seconds",
                                 "Time from a prediction request entering the app to its response being ready "
                                 "(validation, model, JSON); excludes the network.",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.model_batch = Histogram("tickets_model_batch_size", "Texts per model call (micro-batching).",
                                     buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000), registry=self.registry)

    def request(self, path: str, status: int) -> None:
        self.requests.labels(path, str(status)).inc()

    def predicted(self, classes: list, low: int, seconds: float) -> None:
        """Count one prediction request: its predicted classes, how many go to review, its request time."""
        for c in classes:
            self.predictions.labels(c).inc()
        if low:
            self.low_confidence.inc(low)
        self.latency.observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


def _printable(text: str) -> str:
    """Text that can be written as UTF-8 (a lone surrogate in a field name would break the error response)."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def create_app(artifact_dir, *, log_path=None, review_threshold=None, expected_version=None,
               max_batch: int = MODEL_BATCH, max_wait_ms: float = MODEL_WAIT_MS):
    """The FastAPI app serving a verified artifact (a tampered one is refused here, before serving).

    review_threshold=None serves with the threshold recorded in the artifact. `max_batch` and `max_wait_ms`
    set the micro-batching of concurrent requests (max_batch=1: one model call per request).
    """
    from contextlib import asynccontextmanager
    from typing import Annotated, List, Optional, Union

    import numpy as np
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, WithJsonSchema, field_validator
    from sklearn import config_context
    from starlette.exceptions import HTTPException as StarletteHTTPException

    model, meta = load_artifact(artifact_dir, expected_version=expected_version)
    review_threshold = serving_threshold(meta, review_threshold)
    schema = ticket_schema(labelled=False)
    text_rule, id_rule = schema.column("text"), schema.column("ticket_id")
    classes = np.asarray(model.classes_)
    class_names = [str(k) for k in classes]
    predictions = PredictionLog(log_path)
    metrics = Metrics(meta.classes, meta.version)

    def score_texts(texts: list):
        # the texts were validated by the request model: scikit-learn's own input checks are skipped
        with config_context(assume_finite=True, skip_parameter_validation=True):
            return model.predict_proba(texts)

    batcher = MicroBatcher(score_texts, max_batch=max_batch, max_wait_s=max_wait_ms / 1000)
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

    @asynccontextmanager
    async def lifespan(app):
        yield
        await batcher.stop()
        predictions.close()

    app = FastAPI(title="Lifecycle Lab ticket classifier", version=meta.version, lifespan=lifespan)
    app.state.batcher = batcher

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

    async def _answer(request, items) -> list:
        rows, info = await batcher.submit([t.text for t in items])
        proba = np.asarray(rows)
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(best)), best]
        model_ms = round(info.model_s * 1000, 4)
        request_id = uuid.uuid4().hex
        results, records = [], []
        now = time.time()
        for i, t in enumerate(items):
            cls, c = class_names[best[i]], float(conf[i])
            result = {"request_id": request_id if len(items) == 1 else f"{request_id}-{i}", "ticket_id": t.ticket_id,
                      "model_version": meta.version, "predicted_class": cls, "confidence": round(c, 6),
                      "needs_review": c < review_threshold,
                      "probabilities": {k: round(float(p), 6) for k, p in zip(class_names, proba[i].tolist())}}
            results.append(result)
            records.append({"request_id": result["request_id"], "ticket_id": t.ticket_id, "model_version": meta.version,
                            "predicted_class": cls, "confidence": round(c, 6), "batch_size": len(items),
                            "model_batch": info.size, "model_ms": model_ms, "ts": now})
        metrics.model_batch.observe(info.size)
        return results, records

    def _respond(request, content, records):
        """Render the answer once, then log and count it with the time from the request entering the app."""
        response = JSONResponse(content)
        seconds = time.perf_counter() - request.scope["state"]["lifecycle_lab_t0"]
        for r in records:
            r["request_ms"] = round(seconds * 1000, 4)
        predictions.write(records)
        metrics.predicted([r["predicted_class"] for r in records],
                          sum(r["confidence"] < review_threshold for r in records), seconds)
        return response

    @app.post("/predict", responses=refusals)
    async def predict(ticket: Ticket, request: Request):
        """Classify one ticket."""
        results, records = await _answer(request, [ticket])
        return _respond(request, results[0], records)

    @app.post("/predict/batch", responses=refusals)
    async def predict_batch(batch: TicketBatch, request: Request):
        """Classify up to 1,000 tickets in one call."""
        results, records = await _answer(request, batch.tickets)
        return _respond(request, {"predictions": results}, records)

    @app.get("/health")
    def health():
        return {"status": "ok", "model_version": meta.version}

    @app.get("/model")
    def model_info():
        return {"name": meta.name, "version": meta.version, "classes": meta.classes,
                "training_data_sha256": meta.training_data_sha256, "seed": meta.seed, "sha256": meta.sha256,
                "libraries": meta.libraries, "metrics": meta.metrics, "review_threshold": review_threshold}

    @app.get("/metrics", response_class=Response)
    def prometheus():
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return _Timing(app, metrics)


class _Timing:
    """Plain ASGI middleware (no extra task or stream per request, unlike `@app.middleware`): stamps the
    time a request enters the app (read by the endpoints for `request_ms`) and counts every response by
    path and status, a 500 from an exception included."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics
        self.state = app.state  # the FastAPI app's state (the batcher), for callers and tests

    def __getattr__(self, name):  # routes, openapi(), ... of the wrapped FastAPI app
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope.setdefault("state", {})["lifecycle_lab_t0"] = time.perf_counter()
        path = scope["path"] if scope["path"] in _PATHS else "other"
        status = []

        async def counted(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except Exception:
            self.metrics.request(path, 500)  # the exception handler answers 500 and logs the traceback
            raise
        if status:
            self.metrics.request(path, status[0])


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

    def __init__(self, artifact_dir, log_path, *, port=None, review_threshold=None, timeout: float = 90,
                 max_batch: int | None = None, max_wait_ms: float | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["serve", "--model", str(artifact_dir), "--log", str(log_path), "--port", str(self.port)]
        if review_threshold is not None:
            self.args += ["--review-threshold", str(review_threshold)]
        if max_batch is not None:
            self.args += ["--max-batch", str(max_batch)]
        if max_wait_ms is not None:
            self.args += ["--batch-wait-ms", str(max_wait_ms)]
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
