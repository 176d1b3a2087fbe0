"""The plugin tutorial (docs/writing-a-plugin.md): its code is the scaffold's, its steps run end to end."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lepton_core.scaffolding import create_plugin
from lepton_core.testing.cli import latest_run, run_lepton

TUTORIAL = Path(__file__).parents[1] / "docs" / "writing-a-plugin.md"
PLUGIN = "churn"
EDIT_SUFFIX = ": replace the tasks line"
TASKS_LINE = '        tasks=(TaskInfo("classify", "Classify the rows of a CSV into two classes.", predictor=PREDICTOR),),\n'


def titled_blocks() -> list[tuple[str, str]]:
    """(title, code) of every fenced block of the tutorial that names a file."""
    text = TUTORIAL.read_text()
    return [(t, code) for t, code in re.findall(r'```\w+ title="([^"]+)"\n(.*?)```', text, re.DOTALL)]


def apply_new_task_step(directory: Path) -> None:
    """Step 5 of the tutorial: write its new task config and replace the tasks line of plugin.py."""
    for title, code in titled_blocks():
        path = directory / title.removesuffix(EDIT_SUFFIX)
        if title.endswith(EDIT_SUFFIX):
            source = path.read_text()
            assert TASKS_LINE in source
            path.write_text(source.replace(TASKS_LINE, code))
        elif not path.exists():
            path.write_text(code)


def test_every_file_block_is_the_scaffolds_code(tmp_path: Path) -> None:
    root = create_plugin(PLUGIN, directory=tmp_path)
    blocks = titled_blocks()
    assert len(blocks) >= 8
    checked = 0
    for title, code in blocks:
        path = tmp_path / title.removesuffix(EDIT_SUFFIX)
        assert path.is_relative_to(root), title
        if title.endswith(EDIT_SUFFIX):
            assert TASKS_LINE in path.read_text(), "the tutorial's edit no longer matches plugin.py"
            compile("x = dict(\n" + code + ")\n", title, "exec")
        elif path.exists():
            generated = path.read_text()
            assert code == generated or code in generated, (
                f"{title} differs from what `lepton new plugin` writes"
            )
            checked += 1
        else:
            config = yaml.safe_load(code)
            assert (root / "lepton_churn" / "configs" / "task" / f"{config['defaults'][0]}.yaml").is_file()
    assert checked >= 6


def test_the_file_tree_lists_every_generated_file(tmp_path: Path) -> None:
    root = create_plugin(PLUGIN, directory=tmp_path)
    tree = re.search(r"```text\nchurn/\n(.*?)```", TUTORIAL.read_text(), re.DOTALL)
    assert tree is not None
    for path in root.rglob("*"):
        if path.is_file() and path.name != "__init__.py":
            assert path.name in tree.group(1), f"the tutorial's tree lacks {path.name}"


def _pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], check=False, capture_output=True, text=True, timeout=600, cwd=cwd
    )


def readme_commands(root: Path) -> list[list[str]]:
    """The commands of the generated README's bash block, split into arguments (comments dropped)."""
    block = re.search(r"```bash\n(.*?)```", (root / "README.md").read_text(), re.DOTALL)
    assert block is not None, "the scaffold's README has no bash block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
def test_tutorial_end_to_end(tmp_path: Path) -> None:
    """Scaffold, add the tutorial's second task, then run the generated README's commands as written: install
    (with its test extra), list, export the demo data, train on the exported file, pass the generated tests."""
    created = run_lepton(["new", "plugin", PLUGIN], tmp_path)
    assert created.returncode == 0, created.stderr
    root = tmp_path / PLUGIN
    apply_new_task_step(tmp_path)
    commands = readme_commands(root)
    assert [c[0] for c in commands] == ["pip", "lepton", "lepton", "lepton", "lepton", "pytest"], commands
    install, listing_cmd, _demo_run, export_cmd, file_run, pytest_cmd = commands
    # this interpreter's pip; no build isolation: tests never download (setuptools is already installed)
    installed = _pip(*install[1:], "--no-build-isolation", "-q", cwd=root)
    assert installed.returncode == 0, installed.stderr[-2000:]
    try:
        # a new interpreter: only one started after the install sees the new editable package
        listing = run_lepton(listing_cmd[1:], tmp_path, fresh_process=True)
        assert listing.returncode == 0 and "lepton-churn" in listing.stdout, listing.stdout + listing.stderr
        tasks = run_lepton(["tasks", PLUGIN], tmp_path, fresh_process=True)
        assert "classify_wide" in tasks.stdout, tasks.stdout + tasks.stderr
        out = tmp_path / "out"
        out.mkdir()
        exported = run_lepton(export_cmd[1:], out, cwd=root, fresh_process=True)
        assert exported.returncode == 0, exported.stderr[-2000:]
        done = run_lepton([*file_run[1:], "debug=smoke"], out, cwd=root, fresh_process=True)  # the README's run, one short epoch
        assert done.returncode == 0, done.stderr[-3000:]
        run_dir = latest_run(out, PLUGIN, "classify")
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert set(metrics["metrics"]) == {"model", "logistic"} and metrics["primary_metric"] == "roc_auc"
        assert metrics["data"]["train rows"] == 600  # the 1000 exported demo rows, split 60/20/20
        assert (run_dir / "report.html").is_file() and (run_dir / "bundle" / "lepton.json").is_file()
        bad = run_lepton(
            ["run", f"plugin={PLUGIN}", "debug=smoke", f"data.path={tmp_path / 'absent.csv'}"], out, fresh_process=True
        )
        assert (
            bad.returncode == 3
            and bad.stderr.startswith("error: data file not found")
            and "Traceback" not in bad.stderr
        )
        tests = subprocess.run(
            [sys.executable, "-m", *pytest_cmd, "-q", "-p", "no:cacheprovider"],
            check=False,
            capture_output=True,
            text=True,
            cwd=root,
            timeout=900,
        )
        assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
        assert (
            "8 passed" in tests.stdout
        )  # 6 data checks + the contract kit on both tasks, tests.stdout[-500:]
    finally:
        removed = _pip("uninstall", "-y", "-q", "lepton-churn")
        assert removed.returncode == 0, removed.stderr
