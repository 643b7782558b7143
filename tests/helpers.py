"""Helpers shared by test modules (fixtures live in conftest.py): `from helpers import outputs_text`."""

from __future__ import annotations


def outputs_text(result) -> str:
    """All text a notebook printed, to assert messages such as 'not attempted yet'."""
    import nbformat

    from lifecycle_lab.course.summary import output_text

    return output_text(nbformat.read(result.output, as_version=4))


def ticket_artifact(folder, *, seed: int, n_tickets: int, version: str = "1", name: str = "tickets",
                    review_threshold: float, training_data_sha256: str | None = None, **extra):
    """Train the ticket pipeline on a small generated world and save it as a verified artifact in `folder`
    (the one model-artifact fixture the API, batch, packaging and registry tests share); returns
    (folder, data, model)."""
    from lifecycle_lab.deployment import registry
    from lifecycle_lab.projects.p01_tickets import world as tickets

    data = tickets.generate(seed=seed, n_tickets=n_tickets)
    model = tickets.build_pipeline(seed).fit(data["text"], data["label"])
    registry.save_artifact(model, folder, name=name, version=version, seed=seed, review_threshold=review_threshold,
                           training_data_sha256=training_data_sha256 or tickets.data_hash(data), **extra)
    return folder, data, model


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def execute_on_server(base: str, token: str, code_cells: list[str], *, timeout: float = 300) -> list[dict]:
    """Run code cells in a new kernel of a Jupyter server through its REST and websocket kernel API (the
    Jupyter messaging protocol, v5), as a browser would; return per cell {"text": printed text, "error": ...}.
    Stops at the first cell that raises."""
    import asyncio
    import datetime
    import json
    import urllib.request
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    headers = {"Authorization": f"token {token}"}
    req = urllib.request.Request(f"{base}/api/kernels", data=b"{}", headers={**headers, "Content-Type":
                                                                               "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        kernel = json.load(r)["id"]
    session = uuid.uuid4().hex

    async def run() -> list[dict]:
        ws_url = base.replace("http://", "ws://") + f"/api/kernels/{kernel}/channels?session_id={session}"
        conn = await websocket_connect(HTTPRequest(ws_url, headers=headers), max_message_size=64 * 2**20)
        results = []
        try:
            for code in code_cells:
                msg_id = uuid.uuid4().hex
                await conn.write_message(json.dumps({
                    "header": {"msg_id": msg_id, "username": "test", "session": session, "version": "5.3",
                               "msg_type": "execute_request", "date": datetime.datetime.now().isoformat()},
                    "parent_header": {}, "metadata": {}, "channel": "shell",
                    "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True}}))
                text, error = [], None
                while True:
                    raw = await asyncio.wait_for(conn.read_message(), timeout)
                    if raw is None:
                        raise RuntimeError("the kernel's websocket closed")
                    msg = json.loads(raw)
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "stream":
                        text.append(content["text"])
                    elif kind in ("execute_result", "display_data"):
                        text.append(content["data"].get("text/plain", ""))
                    elif kind == "error":
                        error = f"{content['ename']}: {content['evalue']}"
                    elif kind == "status" and content["execution_state"] == "idle":
                        break
                results.append({"text": "".join(text), "error": error})
                if error:
                    break
        finally:
            conn.close()
        return results

    try:
        return asyncio.run(run())
    finally:
        delete = urllib.request.Request(f"{base}/api/kernels/{kernel}", headers=headers, method="DELETE")
        try:
            urllib.request.urlopen(delete, timeout=30).close()
        except OSError:
            pass


FIXTURES = __import__("pathlib").Path(__file__).resolve().parent / "fixtures"
"""tests/fixtures: gradetest, a tiny practice project (three exercises, two artefacts) for the course tests."""
GRADETEST_NOTEBOOK = "90_grading_test"


def readme_docker_commands(readme=None) -> dict:
    """The Docker commands README.md gives (fenced bash blocks, continued lines joined, and inline code), as
    {"build": [...], "run": [...], "newman": the newman line}: the image tests run or check exactly these, so the
    README cannot drift from what was run."""
    import re

    from lifecycle_lab.base import paths

    text = (readme or paths.ROOT / "README.md").read_text()
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        found += [line.strip() for line in block.replace("\\\n", " ").splitlines()]
    found += re.findall(r"`((?:docker|node_modules/\.bin/newman) [^`]+)`", text)
    cmds = {"build": [], "run": [], "newman": None}
    for line in found:
        line = re.sub(r"\s+#.*$", "", " ".join(line.split()))
        if line.startswith("docker build ") and line not in cmds["build"]:
            cmds["build"].append(line)
        elif line.startswith("docker run ") and line not in cmds["run"]:
            cmds["run"].append(line)
        elif line.startswith("node_modules/.bin/newman "):
            cmds["newman"] = line
    return cmds
