"""The CLI and its Hydra bridge: errors, config composition, multirun, Hydra flags, start-up imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from lepton_core.testing.cli import run_lepton


def test_unknown_plugin_lists_installed_with_did_you_mean(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=exampel"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown plugin 'exampel' (did you mean 'example'?)")
    assert "example (tasks: classify, noisy)" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unknown_task_lists_tasks(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "task=clasify"], tmp_path)
    assert proc.returncode == 2
    assert "unknown task 'clasify' for plugin 'example' (did you mean 'classify'?)" in proc.stderr
    assert "use one of: classify, noisy" in proc.stderr


def test_missing_plugin_argument(tmp_path: Path) -> None:
    proc = run_lepton(["run"], tmp_path)
    assert proc.returncode == 2 and "no plugin selected" in proc.stderr


def test_config_composes_from_the_plugin_package(tmp_path: Path) -> None:
    proc = run_lepton(["config", "plugin=example", "task=noisy", "model.hidden=7"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    cfg = yaml.safe_load(proc.stdout)
    assert cfg["plugin"] == {"name": "example"}
    assert cfg["task"]["name"] == "noisy"
    assert cfg["data"]["noise"] == 0.35  # noisy.yaml overrides classify.yaml it extends
    assert cfg["data"]["_target_"] == "lepton_example.data.MoonsDataModule"
    assert cfg["model"]["hidden"] == 7
    assert cfg["trainer"]["max_epochs"] == 6  # the task config overrides the core trainer group


def test_hydra_cfg_job_and_info_pass_through(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "trainer=cpu", "--cfg", "job"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout)["trainer"]["accelerator"] == "cpu"
    info = run_lepton(["run", "plugin=example", "--info", "searchpath"], tmp_path)
    assert info.returncode == 0 and "pkg://lepton_example.configs" in info.stdout
    assert not list(tmp_path.rglob("metrics.json"))  # nothing ran


def test_bad_override_is_one_clear_error(tmp_path: Path) -> None:
    proc = run_lepton(["run", "plugin=example", "trainer.max_epochz=3"], tmp_path)
    assert proc.returncode != 0
    assert "max_epochz" in proc.stderr and "Traceback" not in proc.stderr


def test_multirun_sweeps_two_jobs_into_two_directories(tmp_path: Path) -> None:
    proc = run_lepton(
        ["run", "plugin=example", "-m", "model.hidden=8,16", "trainer.max_epochs=2", "callbacks.progress_bar=null"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = sorted(p for p in (tmp_path / "multirun").rglob("metrics.json") if p.parent.name != "bundle")
    assert len(metrics) == 2
    hidden = sorted(yaml.safe_load((m.parent / ".hydra" / "config.yaml").read_text())["model"]["hidden"] for m in metrics)
    assert hidden == [8, 16]
    for m in metrics:
        assert json.loads(m.read_text())["metrics"]["model"]["roc_auc"] > 0.5
        assert (m.parent / "bundle" / "lepton.json").is_file()
    (summary_file,) = (tmp_path / "multirun").rglob("sweep_summary.json")
    summary = json.loads(summary_file.read_text())
    assert [job["status"] for job in summary["jobs"]] == ["ok", "ok"] and summary["ranked_by"] == "val_loss"
    best = min(summary["jobs"], key=lambda job: job["validation"])
    assert summary["best"] == best and f"  lepton serve {best['bundle']}" in proc.stdout.splitlines()


def _imports_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['lepton', *{args!r}]\n"
        "from lepton_core.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(proc.stderr.split())


def test_help_and_plugins_do_not_import_torch() -> None:
    for args in (["--help"], ["plugins"], ["tasks"]):
        modules = _imports_after(args)
        assert "typer" in modules
        assert "torch" not in modules and "lightning" not in modules and "pandas" not in modules, args
