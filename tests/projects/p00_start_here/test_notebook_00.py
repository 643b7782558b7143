"""The orientation notebook: the learner copy runs unattempted under another seed; conclusions hold."""

import pytest
from sklearn.metrics import precision_score, roc_auc_score

from helpers import outputs_text
from lifecycle_lab.projects.p00_start_here import EXERCISES
from lifecycle_lab.projects.p00_start_here.world import urgent_ticket_scores

pytestmark = pytest.mark.notebook


def test_learner_copy_runs_unattempted_with_another_seed(run_notebook):
    result = run_notebook("00_start_here", {"seed": 7, "fast": True, "min_precision": 0.8})
    text = outputs_text(result)
    assert text.count("not attempted yet") == len(EXERCISES)
    facts = result.summary
    data = urgent_ticket_scores(n=1000, seed=7, urgent_share=0.2)  # fast caps n_tickets at 1000
    assert facts["tickets"] == len(data)
    assert facts["roc_auc"] == pytest.approx(roc_auc_score(data.urgent, data.score), abs=1e-4)
    flagged = (data.score >= facts["threshold"]).astype(int)
    assert precision_score(data.urgent, flagged) >= 0.8  # the chosen threshold meets the target


def test_bad_parameter_stops_with_a_clear_message(notebook_out):
    """Refused twice: by the runner before a kernel starts, and by the notebook's own validation cell (a
    learner who edits the parameters cell by hand gets the same message)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from lifecycle_lab.base import paths
    from lifecycle_lab.course.runner import UnknownParameter, run_notebook

    with pytest.raises(UnknownParameter, match="min_precision=2 is out of range"):
        run_notebook(paths.NOTEBOOKS / "00_start_here.ipynb", notebook_out / "bad", {"min_precision": 2},
                     progress=False)
    with pytest.raises(PapermillExecutionError) as stopped:
        papermill.execute_notebook(str(paths.NOTEBOOKS / "00_start_here.ipynb"), str(notebook_out / "bad.ipynb"),
                                   parameters={"min_precision": 2}, kernel_name="python3", progress_bar=False,
                                   cwd=str(paths.NOTEBOOKS))
    assert stopped.value.ename == "ParameterError" and "min_precision=2 is out of range" in stopped.value.evalue
    assert stopped.value.exec_count <= 3  # the validation cell, before any data is built
