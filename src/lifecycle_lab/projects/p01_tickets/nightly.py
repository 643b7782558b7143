"""What the nightly workflow (.github/workflows/nightly-batch.yml) prepares before `lifecycle-lab batch`.

    python -m lifecycle_lab.projects.p01_tickets.nightly --folder build/nightly [--day 2026-11-23]

Why a module, not Python inlined in YAML: the workflow's steps are then code the tests run. In a real
deployment the model comes from the team's registry and the day's tickets from storage; the workbook has
neither, so this stands in for both: it makes sure the registry in `folder` has a `champion` (trained from
the shipped snapshot, review threshold chosen on validation data, when the registry has none yet) and writes
the day's ticket file. The workflow then exports `@champion` and scores the file into the database.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from lifecycle_lab.deployment import registry
from lifecycle_lab.deployment.registry import ArtifactError
from lifecycle_lab.evaluation import metrics as evaluate
from lifecycle_lab.projects.p01_tickets import world as tickets

NAME = "ticket-classifier"
SEED = 42
REVIEW_PRECISION = 0.92  # as in notebook 01: auto-routed tickets must be this precise


def ensure_champion(folder: str | Path, *, seed: int = SEED, name: str = NAME,
                    review_precision: float = REVIEW_PRECISION) -> dict:
    """{"uri", "version", "trained"}: the registry's champion, trained and registered first if there is none.

    A registry file that cannot be read raises ArtifactError: training a new champion into it would hide
    the breakage (and fail later, deeper).
    """

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uri = registry.tracking_uri(folder)
    if (folder / "mlflow.db").is_file():
        try:
            current = registry.aliases(uri, name)
        except Exception as err:  # a broken registry is not an empty one: only "no such model" trains one
            if getattr(err, "error_code", None) != "RESOURCE_DOES_NOT_EXIST":
                reason = (str(err).strip().splitlines() or [""])[0]
                raise registry.ArtifactError(f"the registry {uri} cannot be read ({type(err).__name__}: {reason}); "
                                             f"restore it from a backup, or remove {folder / 'mlflow.db'} to "
                                             f"start a new one") from err
            current = {}  # no such registered model yet
        if "champion" in current:
            return {"uri": uri, "version": current["champion"], "trained": False}
    from sklearn.metrics import f1_score

    data = tickets.generate(seed=seed)
    train, val, _ = tickets.stratified_split(data, seed)
    model = tickets.build_pipeline(seed).fit(train["text"], train["label"])
    val_pred = model.predict(val["text"])
    val_conf = model.predict_proba(val["text"]).max(axis=1)
    choice = evaluate.review_threshold(val["label"], val_pred, val_conf, review_precision)
    f1 = float(f1_score(val["label"], val_pred, average="macro"))
    registered = registry.log_and_register(model, uri=uri, artifact_root=folder / "mlartifacts", experiment="tickets",
                                           name=name, params={"seed": seed, "n_train": len(train)},
                                           metrics={"val_macro_f1": f1}, alias="champion",
                                           training_data_sha256=tickets.data_hash(train),
                                           review_threshold=choice.threshold)
    return {"uri": uri, "version": registered["version"], "trained": True}


def write_tickets(path: str | Path, day: date, n_tickets: int = 500, drift: float = 0.2) -> Path:
    """The day's (unlabelled) ticket file: seeded by the date, so re-running a night gives the same file."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = tickets.unlabelled(tickets.generate(seed=day.toordinal(), n_tickets=n_tickets, drift=drift))
    frame.to_csv(path, index=False)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lifecycle_lab.projects.p01_tickets.nightly", description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", required=True, help="holds mlflow.db (the registry) and the day's tickets")
    parser.add_argument("--day", default=None, help="ISO date of the tickets (default: today)")
    parser.add_argument("--tickets", type=int, default=500, help="tickets in the day's file")
    args = parser.parse_args(argv)
    try:
        day = date.fromisoformat(args.day) if args.day else date.today()
    except ValueError:
        print(f"nightly: --day {args.day!r} is not an ISO date such as 2026-11-23", file=sys.stderr)
        return 2

    try:
        champion = ensure_champion(args.folder)
    except ArtifactError as err:
        print(f"nightly: {err}", file=sys.stderr)
        return 1
    path = write_tickets(Path(args.folder) / "tickets_today.csv", day, args.tickets)
    print(json.dumps({"registry": champion["uri"], "champion_version": champion["version"],
                      "trained": champion["trained"], "tickets": str(path), "day": day.isoformat()}, sort_keys=True))
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the workflow; tests call main()
    sys.exit(main())
