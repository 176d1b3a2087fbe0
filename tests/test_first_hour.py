"""A new user's first hour: the README's commands run as written, output never breaks a path or a command,
a data error comes fast and leaves no run directory, the loggers write where the docs say."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lepton_core.pipeline.outputs import FAILED_MARKER, marked_on_failure
from lepton_core.tabular.io import read_table
from lepton_core.testing.cli import latest_run, run_lepton

README = Path(__file__).parents[1] / "README.md"


def readme_block(heading: str) -> list[str]:
    """The command lines of the first fenced block after ``heading`` in the README (comments dropped)."""
    section = README.read_text().split(heading, 1)[1]
    block = re.search(r"```(?:bash)?\n(.*?)```", section, re.DOTALL)
    assert block is not None, heading
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_export_and_predict_run_as_written(tmp_path: Path) -> None:
    """`lepton data export` writes the file the README's `lepton predict` line reads, next to a (tiny) run."""
    outputs = tmp_path / "outputs"
    trained = run_lepton(
        ["run", "plugin=finance", "debug=smoke", "data.n_rows=1500"], outputs, cwd=tmp_path, env={"COLUMNS": "60"}
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_dir = latest_run(outputs, "finance", "credit_scoring")
    lines = trained.stdout.splitlines()
    assert f"  lepton serve {run_dir / 'bundle'}" in lines, "the serve command is broken across lines at 60 columns"
    assert f"report: {run_dir / 'report.html'}" in lines
    assert not (run_dir / "entry.log").exists(), "Hydra's empty job log"
    block = readme_block("## Deploying a bundle")
    export = next(line for line in block if line.startswith("lepton data export"))
    predict = next(line for line in block if line.startswith("lepton predict"))
    for line in (export, predict.replace("<run>", run_dir.name)):
        done = run_lepton(shlex.split(line)[1:], outputs, cwd=tmp_path)
        assert done.returncode == 0, f"{line}\n{done.stderr[-2000:]}"
    scores = read_table(tmp_path / "scores.csv")
    assert len(scores) == len(read_table(tmp_path / "applicants.csv")) > 1000


def test_headline_data_is_what_data_export_writes(tmp_path: Path) -> None:
    """The README's headline reads transactions.parquet: `lepton data export` writes it and prints that command."""
    top = README.read_text().split("## Quick start")[0]
    export, headline = (line.strip() for line in re.search(r"```\n(.*?)```", top, re.DOTALL).group(1).splitlines()[:2])
    export = export.split("  #")[0].strip()
    done = run_lepton(shlex.split(export)[1:], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert headline in done.stdout.splitlines(), done.stdout
    frame = read_table(tmp_path / "transactions.parquet")
    assert {"is_fraud", "timestamp"} <= set(frame.columns) and frame["is_fraud"].nunique() == 2


@pytest.mark.parametrize("columns", ["80", "60"])
def test_listings_never_break_a_path_or_a_command(tmp_path: Path, columns: str) -> None:
    from lepton_core.hooks.manager import get_plugin_manager

    manager = get_plugin_manager()
    tasks = run_lepton(["tasks"], tmp_path, env={"COLUMNS": columns})
    plugins = run_lepton(["plugins"], tmp_path, env={"COLUMNS": columns})
    assert tasks.returncode == plugins.returncode == 0, tasks.stderr + plugins.stderr
    for name, info in manager.loaded().items():
        for task in info.task_names():
            assert f"  lepton run plugin={name} task={task}" in tasks.stdout.splitlines(), (name, task)
        record = manager.records[name]
        assert any(line.endswith(f" from {record.location}") for line in plugins.stdout.splitlines()), name


def _modules_after_cli(args: list[str], output_dir: Path) -> tuple[int, str, set[str]]:
    """Exit code, stderr and the imported modules of `lepton ARGS` run in a fresh interpreter."""
    code = (
        "import sys\n"
        f"sys.argv = ['lepton', *{args!r}]\n"
        "from lepton_core.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120, cwd=output_dir,
        env={**__import__("os").environ, "LEPTON_OUTPUT_DIR": str(output_dir)},
    )
    modules = next(line for line in proc.stdout.splitlines() if line.startswith("MODULES")).split()[1:]
    return proc.returncode, proc.stderr, set(modules)


def test_a_data_error_comes_before_the_heavy_imports_and_leaves_no_run_directory(tmp_path: Path) -> None:
    (tmp_path / "outputs").mkdir()
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    cases = [
        (f"data.path={tmp_path / 'absent.csv'}", "error: data file not found"),
        (f"data.path={wrong}", "error: target column 'default' not found (columns: a, b)"),
    ]
    for path, message in cases:
        code, stderr, modules = _modules_after_cli(
            ["run", "plugin=finance", path, "data.target=default"], tmp_path / "outputs"
        )
        assert code == 3 and stderr.startswith(message), stderr
        assert not {"torch", "lightning", "pandas"} & modules, "a data error must not wait for the heavy imports"
        assert not list((tmp_path / "outputs").rglob("config.yaml")), "a failed run left its run directory"


def test_a_failed_run_with_outputs_is_marked_failed(tmp_path: Path) -> None:
    empty, started, resumed = (tmp_path / "runs" / name for name in ("empty", "started", "resumed"))
    for folder in (empty, started, resumed):
        (folder / ".hydra").mkdir(parents=True)
    (started / "logs").mkdir()
    (resumed / "checkpoints").mkdir()
    for folder, resume in ((empty, False), (started, False), (resumed, True)):
        with pytest.raises(ValueError), marked_on_failure(folder, resume=resume):
            raise ValueError("bad learning rate")
    assert not empty.exists()
    assert (started / FAILED_MARKER).read_text() == "ValueError: bad learning rate\n"
    assert latest_run(tmp_path, "runs", "").name == "resumed"  # failed runs are not "the latest run"
    assert not (resumed / FAILED_MARKER).exists()  # a failed resume keeps the run as it was
    with marked_on_failure(started):
        pass
    assert not (started / FAILED_MARKER).exists()  # the run succeeded after all (a resume)


def test_tensorboard_and_mlflow_loggers_write_where_the_docs_say(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    done = run_lepton(["run", "plugin=example", "debug=smoke", "logger=[tensorboard,mlflow]"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = latest_run(tmp_path, "example", "classify")
    assert list((run_dir / "logs").glob("events.out.tfevents.*")), "TensorBoard events belong in <run>/logs/"
    client = MlflowClient(tracking_uri=f"sqlite:///{run_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("lepton-example-classify")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["hidden"] == "32"
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert run.data.metrics["test/model/roc_auc"] == pytest.approx(metrics["model"]["roc_auc"])
    assert "val_loss" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "bundle")}
    assert "bundle/lepton.json" in artifacts and "bundle/weights.safetensors" in artifacts
