"""The gate engine: criteria written down as data, validated, judged against evidence, decided.

Why a package of its own: a launch (or a retrain's promotion) is only decided honestly when its criteria
were fixed before the results came in, and when every verdict points at its evidence. The engine knows no
metric of its own: each project passes its catalogue (`MetricSpec` per metric) with its criteria.

- `criteria`: metric specs, validating criteria (a dict, YAML text or a file) against a catalogue;
- `decision`: evidence with intervals, verdicts (PASS / FAIL / INCONCLUSIVE / MISSING) and the decision;
- `checklist`: the launch checklist, each item computed from evidence;
- `memo`: the decision memo in markdown.
"""

from lifecycle_lab.gates.checklist import REQUIRED_OWNERS, CheckItem, launch_checklist
from lifecycle_lab.gates.criteria import (
                                          GROUPS,
                                          OPS,
                                          OPTIONAL_KEYS,
                                          REQUIRED_FIELDS,
                                          SEVERITIES,
                                          Criteria,
                                          CriteriaError,
                                          Criterion,
                                          MetricSpec,
                                          load_criteria,
                                          read_criteria_data,
                                          validate_criteria,
                                          write_criteria,
)
from lifecycle_lab.gates.decision import (
                                          DECISIONS,
                                          FAIL,
                                          GO,
                                          GO_WITH_CONDITIONS,
                                          INCONCLUSIVE,
                                          MISSING,
                                          NO_GO,
                                          PASS,
                                          Evidence,
                                          GateResult,
                                          evaluate_gate,
                                          fmt,
                                          judge,
)
from lifecycle_lab.gates.memo import render_memo

__all__ = ["REQUIRED_OWNERS", "CheckItem", "launch_checklist", "GROUPS", "OPS", "OPTIONAL_KEYS", "REQUIRED_FIELDS",
           "SEVERITIES", "Criteria", "CriteriaError", "Criterion", "MetricSpec", "load_criteria", "read_criteria_data",
           "validate_criteria", "write_criteria", "DECISIONS", "FAIL", "GO", "GO_WITH_CONDITIONS", "INCONCLUSIVE",
           "MISSING", "NO_GO", "PASS", "Evidence", "GateResult", "evaluate_gate", "fmt", "judge", "render_memo"]
