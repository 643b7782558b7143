"""Graduation gates: criteria written down as data, validated, evaluated to GO / NO-GO / GO WITH CONDITIONS.

Why a package of its own: a launch decision is only honest when its criteria were fixed before the results
came in, and when every verdict points at its evidence. The parts, each in its own module:

- `criteria`: the metrics a gate knows, validating criteria (a dict, YAML text or a file), the shipped file;
- `decision`: evidence with intervals, verdicts (PASS / FAIL / INCONCLUSIVE / MISSING) and the decision;
- `checklist`: the launch checklist, computed from evidence;
- `memo`: the decision memo in markdown;
- `audit`: the bias audit of an A/B test (lift per group, the fairness ratio's interval, exposure);
- `drift`: training data vs current traffic, data drift told from concept drift;
- `review`: the recommender project's review on the simulator, step by step (`RecsysReview`).

Everything is importable from `lifecycle_lab.gates` directly.
"""

from lifecycle_lab.gates.checklist import (MIN_LOAD_REQUESTS, MIN_SKEW_AGREEMENT, REQUIRED_OWNERS, CheckItem,
                                           launch_checklist, review_checklist)
from lifecycle_lab.gates.criteria import (DEFAULT_CRITERIA_FILE, GROUPS, METRICS, OPS, OPTIONAL_KEYS,
                                          REQUIRED_FIELDS, SEVERITIES, Criteria, CriteriaError, Criterion, MetricSpec,
                                          default_criteria, load_criteria, read_criteria_data, validate_criteria,
                                          write_criteria)
from lifecycle_lab.gates.decision import (DECISIONS, FAIL, GO, GO_WITH_CONDITIONS, INCONCLUSIVE, MISSING, NO_GO, PASS,
                                          Evidence, GateResult, evaluate_gate, fmt, judge)
from lifecycle_lab.gates.memo import render_memo
from lifecycle_lab.gates.audit import AUDIT_ATTRIBUTES, lift_table, ratio_interval, segment_audit
from lifecycle_lab.gates.drift import CATEGORICAL_FEATURES, NUMERIC_FEATURES, drift_evidence, psi_binning_comparison
from lifecycle_lab.gates.review import (RecsysReview, Review, ReviewSettings, champion_baseline, collect_evidence,
                                        cost_evidence, follow_ups, load_test_evidence, offline_evaluation,
                                        plan_experiment, read_ab, recsys_review, rehearse_rollback, rollout_evidence)

__all__ = [name for name in dir() if not name.startswith("_")]
