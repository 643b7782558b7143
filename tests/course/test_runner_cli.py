"""The command-line tool: parameters, errors that name the notebook and cell, exit codes."""

import nbformat
import pytest

from lifecycle_lab import cli
from lifecycle_lab.base import paths
from lifecycle_lab.course import commands, runner
from lifecycle_lab.course.summary import read_summary


def _notebook(folder, name, body):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("seed = 1\nfast = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_parse_params_reads_yaml_scalars():
    assert commands.parse_params(["seed=7", "fast=true", "rate=0.5", "name=credit", "empty="]) == {
        "seed": 7, "fast": True, "rate": 0.5, "name": "credit", "empty": ""}
    with pytest.raises(cli.UsageError, match="key=value"):
        commands.parse_params(["seed"])


def test_run_reports_summary_and_failure(tmp_path):
    ok = _notebook(tmp_path, "10_ok", "from lifecycle_lab.course import summary\n"
                                      "summary(f'seed was {seed}', seed=seed)")
    result = runner.run_notebook(ok, tmp_path / "out", {"seed": 5}, progress=False)
    assert result.status == "ok" and result.summary == {"headline": "seed was 5", "seed": 5}
    bad = _notebook(tmp_path, "11_bad", "raise ValueError('seed must be odd')")
    failed = runner.run_notebook(bad, tmp_path / "out", {}, progress=False)
    assert failed.status == "failed"
    assert failed.error.startswith("11_bad.ipynb failed at cell")
    assert "ValueError: seed must be odd" in failed.error
    assert "In [" in failed.error
    with pytest.raises(runner.UnknownParameter, match="no parameter colour; it declares: fast, seed"):
        runner.run_notebook(ok, tmp_path / "out", {"colour": 1}, progress=False)
    table = runner.format_table([result, failed])
    assert "10_ok" in table and "seed was 5" in table and "failed" in table


def test_failing_cell_is_numbered_as_in_the_source_notebook(tmp_path):
    # papermill inserts an injected-parameters cell after the parameters: the error must not count it
    bad = _notebook(tmp_path, "12_late", "x = 1")
    nb = nbformat.read(bad, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("# the broken step\nraise KeyError('fare')"))
    nbformat.write(nb, bad)
    failed = runner.run_notebook(bad, tmp_path / "out", {"seed": 3}, progress=False)
    executed = [c for c in nbformat.read(failed.output, as_version=4).cells if c.cell_type == "code"]
    assert "injected-parameters" in executed[1].metadata["tags"]  # so the executed index would be 3
    assert failed.error.startswith("12_late.ipynb failed at cell 2 (In [")
    assert "which starts `# the broken step`" in failed.error and "KeyError" in failed.error


def test_a_timeout_is_reported_and_the_run_goes_on(tmp_path):
    slow = _notebook(tmp_path, "13_slow", "import time\ntime.sleep(30)")
    result = runner.run_notebook(slow, tmp_path / "out", {}, progress=False, timeout=2)
    assert result.status == "failed"
    assert result.error.startswith("13_slow.ipynb: a cell ran longer than 2 s")


def test_cli_exit_codes(tmp_path, monkeypatch, capsys):
    _notebook(tmp_path, "10_ok", "print('fine')")
    _notebook(tmp_path, "11_bad", "1/0")
    monkeypatch.setattr(paths, "SOLUTIONS", tmp_path)
    out = str(tmp_path / "out")
    assert cli.main(["run", "10", "--out", out, "--no-progress"]) == 0
    assert cli.main(["run", "--all", "--out", out, "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "11_bad.ipynb failed at cell 1" in err and "ZeroDivisionError" in err
    assert cli.main(["run", "99", "--out", out]) == 2
    assert "no notebook matches '99'" in capsys.readouterr().err
    assert cli.main(["run", "10", "-p", "colour=red", "--out", out]) == 2
    assert "no parameter colour" in capsys.readouterr().err
    assert cli.main(["run", "--out", out]) == 2


def test_read_summary_takes_the_last_record():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("stream", text='SUMMARY {"headline": "a"}\nSUMMARY {"headline": "b"}\n')]
    nb.cells = [cell]
    assert read_summary(nb) == {"headline": "b"}
