"""Sending alerts: Slack's incoming-webhook JSON, deduplicated, logged, and a local receiver to stand in.

Why: an alert rule that nobody receives is a dashboard. Slack incoming webhooks take a POST with a JSON
body holding a `text` field (optionally `blocks`); `LocalReceiver` accepts the same payload on 127.0.0.1,
so a notebook and a test can check exactly which messages went out, offline. Deduplication is by a key per
alert (signal, week, reason): sending the same alerts again posts nothing, and every post is logged in a
JSON-lines file (the audit of who was paged for what). Standard library only.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Mapping

from lifecycle_lab.base.errors import LifecycleLabError


class AlertError(LifecycleLabError, RuntimeError):
    """An alert could not be delivered (the receiver refused it or is unreachable)."""


def slack_payload(alert: Mapping, *, model: str = "churn") -> dict:
    """The Slack incoming-webhook body of one alert: `text` (the fallback every client shows) and blocks."""
    text = f":rotating_light: [{model}] {alert['signal']} alert in week {int(alert['week'])}: {alert['reason']}"
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


_TEXT = re.compile(r"\] (?P<signal>\w+) alert in week (?P<week>-?\d+): ")


def parse_payload(payload: Mapping) -> dict | None:
    """The signal and week of a payload made by `slack_payload` (None for any other message): what a
    receiver that acts on alerts (e.g. starts a retraining run) reads from the message."""
    m = _TEXT.search(str(payload.get("text", "")))
    return None if m is None else {"signal": m["signal"], "week": int(m["week"])}


def _key(alert: Mapping) -> str:
    return f"{alert['signal']}|{int(alert['week'])}|{alert['reason']}"


def send_alerts(alerts: Iterable[Mapping], url: str, log_path: str | Path, *, model: str = "churn",
                timeout: float = 5.0) -> list[dict]:
    """POST each alert not yet in the log to the webhook `url`; append each delivered one to the log.

    Returns the payloads sent this call (an empty list when every alert was already sent).
    """
    if not url.startswith(("http://127.0.0.1", "http://localhost", "https://hooks.slack.com/")):
        raise AlertError(f"url={url!r}: post to a local receiver (http://127.0.0.1:PORT/...) or a Slack webhook")
    log = Path(log_path)
    seen = set()
    if log.exists():
        seen = {json.loads(line)["key"] for line in log.read_text().splitlines() if line.strip()}
    sent = []
    for alert in alerts:
        key = _key(alert)
        if key in seen:
            continue
        payload = slack_payload(alert, model=model)
        req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                ok = resp.status == 200
        except OSError as err:
            raise AlertError(f"could not deliver the {alert['signal']} alert of week {alert['week']} to {url}: "
                             f"{err}; the alert stays unsent and is retried on the next call") from None
        if not ok:  # pragma: no cover - the receiver answers 200 or raises
            raise AlertError(f"the receiver at {url} refused the alert")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as fh:
            fh.write(json.dumps({"key": key, "payload": payload}) + "\n")
        seen.add(key)
        sent.append(payload)
    return sent


class LocalReceiver:
    """A webhook receiver on 127.0.0.1 that accepts Slack's payload (JSON with `text`) and keeps it.

    Use as a context manager: `with LocalReceiver() as rx: send_alerts(..., rx.url, ...); rx.received`.
    A body without `text` gets 400, as Slack answers `no_text`. `handler`, if given, is called with each
    accepted payload before the answer (a receiver that acts on alerts, e.g. starts a pipeline run); if it
    raises, the receiver answers 500 and the sender keeps the alert unsent.
    """

    def __init__(self, handler=None):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                    good = isinstance(payload, dict) and isinstance(payload.get("text"), str)
                except ValueError:
                    good = False
                status, text = (200, b"ok") if good else (400, b"no_text")
                if good and handler is not None:
                    try:
                        handler(payload)
                    except Exception:  # noqa: BLE001 - any failure of the action refuses the alert
                        status, text = 500, b"handler_failed"
                if status == 200:
                    outer.received.append(payload)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
