"""Notebook 06, advanced: an AI platform's lifecycle governance framework, and its roadmap.

The portfolio and the company (`world`), the policy file (`policy.yaml`), the registry, framing evidence and
business cases (`platform`); the notebook's parameters (`parameters`) and exercises. The reusable parts are
toolkits: `governance.policy`, `governance.checker`, `governance.council`, `framing.canvas`,
`framing.prioritise`.
"""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p06_platform import exercises
from lifecycle_lab.projects.p06_platform.exercises import EXERCISES
from lifecycle_lab.projects.p06_platform.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Platform policy", "policy.yaml", "the stage gates per stage and tier, as validated"),
    Artefact("Violations", "violations.csv", "every unmet gate in the registry: model, gate, evidence, owner, severity"),
    Artefact("Council queue", "council_queue.csv", "the models before the council, why, by when, in order"),
    Artefact("Council decision record", "decisions/first_decision.md",
             "the council's first decision of the queue (each decision is also a dated JSON + markdown record)"),
    Artefact("Deployment playbook", "playbooks/4_deployment.md",
             "one of the playbooks generated from the policy, one per lifecycle stage (playbooks/)"),
    Artefact("ML Canvas", "ml_canvas.md", "the canvas of the candidate feature where ML earns its keep"),
    Artefact("Roadmap", "roadmap.csv", "the backlog ranked by ICE with its value-vs-effort box and OKR"),
]
"""The documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
