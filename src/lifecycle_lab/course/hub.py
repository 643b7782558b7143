"""A JupyterHub for a workshop room: one server, many learners, each with their own copies and scenario.

`lifecycle-lab hub` writes a JupyterHub configuration into a working folder and starts JupyterHub with it.
For each learner who logs in, before their server starts:

- their workspace `~/lifecycle-lab/notebooks/` receives the learner copies (never overwriting a notebook they
  already have, so their work survives a restart), with the parameters cell's `seed` set to the learner's
  own seed: from the workshop roster when they are on it, else derived from their user name (the same rule
  as `lifecycle-lab grade --roster`, so the grader re-judges each learner with the data they worked on);
- their runs write into `~/lifecycle-lab/build/` (LIFECYCLE_LAB_BUILD), not into the shared repository;
- their server runs as their own system user (JupyterHub's LocalProcessSpawner), so one learner cannot read
  another's files: home folders are private (0700).

Authentication: a real room needs real accounts: the default is PAM (the server's own users). The
`dummy` authenticator with a shared password exists for tests and a throw-away demo on a laptop only;
anyone who knows the password can log in as anyone.

For a large cohort the same idea runs on Kubernetes with Zero to JupyterHub (see docker/hub/ for the values
file and a DockerSpawner variant for one server with Docker).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
from pathlib import Path
from typing import Any

from lifecycle_lab.base import paths
from lifecycle_lab.course.lab import write_lab_settings
from lifecycle_lab.course.roster import derived_seed, read_roster

WORKSPACE = "lifecycle-lab"
SEED_LINE = re.compile(r"^(seed\s*=\s*)(\d+)", re.M)
KEEP_ENV = ["PATH", "LANG", "LC_ALL", "PYTHONPATH", "LIFECYCLE_LAB_OFFLINE", "MLFLOW_DISABLE_TELEMETRY",
            "DO_NOT_TRACK", "PYTHONDONTWRITEBYTECODE", "MPLBACKEND"]


def with_seed(notebook_text: str, seed: int) -> str:
    """A notebook (its JSON text) with the parameters cell's `seed = N` set to `seed`."""
    import nbformat

    nb = nbformat.reads(notebook_text, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            if not SEED_LINE.search(cell.source):
                raise ValueError("the parameters cell has no `seed = N` line")
            cell.source = SEED_LINE.sub(lambda m: f"{m.group(1)}{seed}", cell.source, count=1)
            break
    else:
        raise ValueError("the notebook has no cell tagged `parameters`")
    return nbformat.writes(nb) + "\n"


def prepare_workspace(home: Path, seed: int, notebooks: Path = paths.NOTEBOOKS) -> Path:
    """Copy the learner notebooks into `home/lifecycle-lab/notebooks` with `seed` in their parameters;
    a notebook the learner already has is left alone. Returns the notebook folder."""
    folder = home / WORKSPACE / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    (home / WORKSPACE / "build").mkdir(exist_ok=True)
    for source in sorted(notebooks.glob("*.ipynb")):
        target = folder / source.name
        if not target.exists():
            target.write_text(with_seed(source.read_text(encoding="utf-8"), seed), encoding="utf-8")
    (folder / "SEED.txt").write_text(f"Your scenario seed: {seed}\n", encoding="utf-8")
    return folder


def chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, gid)


def seed_for(name: str, roster: dict[str, int]) -> int:
    return roster[name] if name in roster else derived_seed(name)


def make_pre_spawn_hook(roster: dict[str, int]):
    """The hook JupyterHub calls (as root) before a learner's server starts: workspace, seed, environment."""

    def pre_spawn(spawner) -> None:
        import pwd  # Unix only: imported here so the package still imports on Windows

        name = spawner.user.name
        account = pwd.getpwnam(name)  # LocalProcessSpawner runs the server as this system user
        home = Path(account.pw_dir)
        home.mkdir(parents=True, exist_ok=True)
        seed = seed_for(name, roster)
        folder = prepare_workspace(home, seed)
        chown_tree(home / WORKSPACE, account.pw_uid, account.pw_gid)
        os.chown(home, account.pw_uid, account.pw_gid)
        home.chmod(0o700)  # other learners cannot read it
        spawner.notebook_dir = str(folder)
        spawner.environment.update({"LIFECYCLE_LAB_SEED": str(seed), "HOME": str(home),
                                    "LIFECYCLE_LAB_BUILD": str(home / WORKSPACE / "build")})

    return pre_spawn


def configure(c: Any, *, workdir: Path, port: int = 8000, ip: str = "127.0.0.1", roster: str | None = None,
              authenticator: str = "pam", password: str | None = None, admin_token: str | None = None,
              proxy: str | None = None, hub_port: int = 8081, proxy_api_port: int = 8001) -> None:
    """Fill a JupyterHub config object `c` for a workshop (what `jupyterhub_config.py` calls)."""
    workdir.mkdir(parents=True, exist_ok=True)
    seeds = {e.learner: e.seed for e in read_roster(roster)} if roster else {}
    c.JupyterHub.ip, c.JupyterHub.port = ip, port
    c.JupyterHub.hub_ip, c.JupyterHub.hub_port = "127.0.0.1", hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
    c.JupyterHub.db_url = f"sqlite:///{workdir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(workdir / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(workdir / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.pid_file = str(workdir / "proxy.pid")
    chp = proxy or shutil.which("configurable-http-proxy") or str(paths.ROOT / "node_modules" / ".bin" /
                                                                  "configurable-http-proxy")
    c.ConfigurableHTTPProxy.command = [chp]
    if authenticator == "dummy":
        if not password:
            raise ValueError("the dummy authenticator needs --password (and is for tests and demos only)")
        c.JupyterHub.authenticator_class = "dummy"
        c.DummyAuthenticator.password = password
    elif authenticator == "pam":
        c.JupyterHub.authenticator_class = "pam"
    else:
        raise ValueError(f"authenticator {authenticator!r}: use pam (real accounts) or dummy (tests only)")
    c.Authenticator.allow_all = not seeds
    if seeds:
        c.Authenticator.allowed_users = set(seeds)
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
    c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.env_keep = KEEP_ENV
    c.Spawner.args = ["--LabApp.extension_manager=readonly",
                      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 120
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(seeds)
    if admin_token:
        c.JupyterHub.services = [{"name": "workshop-admin", "api_token": admin_token}]
        c.JupyterHub.load_roles = [{"name": "workshop-admin", "services": ["workshop-admin"],
                                    "scopes": ["admin:users", "admin:servers", "tokens", "access:servers",
                                               "read:users", "list:users"]}]
    write_lab_settings()  # no news prompt in any learner's JupyterLab


CONFIG_TEMPLATE = '''# Written by `lifecycle-lab hub`: a JupyterHub for a workshop room (see lifecycle_lab/course/hub.py).
from pathlib import Path

from lifecycle_lab.course.hub import configure

configure(get_config(), workdir=Path({workdir!r}), port={port}, ip={ip!r}, roster={roster!r},
          authenticator={authenticator!r}, password={password!r}, admin_token={admin_token!r},
          hub_port={hub_port}, proxy_api_port={proxy_api_port})
'''


def write_config(workdir: Path, **options) -> Path:
    """The jupyterhub_config.py for these options, in `workdir` (readable by root only: it may hold secrets)."""
    workdir.mkdir(parents=True, exist_ok=True)
    options.setdefault("admin_token", secrets.token_hex(24))
    options.setdefault("hub_port", 8081)
    options.setdefault("proxy_api_port", 8001)
    path = workdir / "jupyterhub_config.py"
    path.write_text(CONFIG_TEMPLATE.format(workdir=str(workdir.resolve()), **options), encoding="utf-8")
    path.chmod(0o600)
    return path


def register(sub) -> None:
    hub = sub.add_parser("hub", help="start a JupyterHub for a workshop room (each learner: own copies, own seed)")
    hub.add_argument("--workdir", default=str(paths.BUILD / "hub"), help="where the hub keeps its state")
    hub.add_argument("--port", type=int, default=8000)
    hub.add_argument("--ip", default="127.0.0.1", help="address to listen on (0.0.0.0 for the room's network)")
    hub.add_argument("--roster", help="roster CSV (learner,seed,name): only those learners may log in")
    hub.add_argument("--authenticator", choices=["pam", "dummy"], default="pam",
                     help="pam: the server's accounts (a real room); dummy: tests and demos only")
    hub.add_argument("--password", help="the shared password of the dummy authenticator")
    hub.add_argument("--print-config", action="store_true", help="write the config and print its path only")
    hub.set_defaults(handler=cmd_hub)

    ws = sub.add_parser("workspace", help="copy the learner notebooks into HOME/lifecycle-lab with a learner's seed "
                        "(what the hub does before each learner's server starts; for container and Kubernetes hubs)")
    ws.add_argument("--home", required=True, help="the learner's home folder")
    seed = ws.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", type=int, help="the learner's scenario seed")
    seed.add_argument("--seed-from-env", action="store_true", help="read it from LIFECYCLE_LAB_SEED (set by the hub)")
    ws.set_defaults(handler=cmd_workspace)


def cmd_hub(args) -> int:
    if args.authenticator == "dummy" and not args.password:
        print("lifecycle-lab hub: --authenticator dummy needs --password (tests and demos only)", file=sys.stderr)
        return 2
    config = write_config(Path(args.workdir), port=args.port, ip=args.ip, roster=args.roster,
                          authenticator=args.authenticator, password=args.password)
    if args.print_config:
        print(config)
        return 0
    cmd = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)]
    os.chdir(config.parent)
    os.execv(cmd[0], cmd)
    return 0  # pragma: no cover - execv does not return


def cmd_workspace(args) -> int:
    if args.seed_from_env:
        raw = os.environ.get("LIFECYCLE_LAB_SEED", "")
        if not raw.isdigit():
            print(f"lifecycle-lab workspace: LIFECYCLE_LAB_SEED={raw!r} is not a whole number; the hub sets it "
                  f"(or pass --seed N)", file=sys.stderr)
            return 2
        seed = int(raw)
    else:
        seed = args.seed
    folder = prepare_workspace(Path(args.home), seed)
    print(f"{folder}: learner notebooks with seed {seed} (existing notebooks kept)")
    return 0
