"""`lepton new plugin`: name checks and the generated package (test_scaffold_tutorial.py installs one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core import ConfigError
from lepton_core.scaffolding import create_plugin, demo_rows
from lepton_core.testing.cli import run_lepton


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("9lives", "plugin name '9lives' is not a lowercase Python identifier"),
        ("my-plugin", "plugin name 'my-plugin' is not a lowercase Python identifier"),
        ("Churn", "plugin name 'Churn' is not a lowercase Python identifier"),
        ("class", "plugin name 'class' is not a lowercase Python identifier"),
        ("example", "a plugin named 'example' is already installed (lepton-example"),
    ],
)
def test_invalid_names_are_refused(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        create_plugin(name, directory=tmp_path)
    assert message in str(caught.value)
    assert not any(tmp_path.iterdir())


def test_invalid_task_and_existing_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="task name 'Bad Task' is not"):
        create_plugin("fresh", task="Bad Task", directory=tmp_path)
    (tmp_path / "fresh").mkdir()
    with pytest.raises(ConfigError, match="fresh already exists"):
        create_plugin("fresh", directory=tmp_path)


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    proc = run_lepton(["new", "plugin", "Not-Valid"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: plugin name 'Not-Valid' is not a lowercase Python identifier")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_generated_package_layout(tmp_path: Path) -> None:
    root = create_plugin("churn_model", task="churn", directory=tmp_path)
    package = root / "lepton_churn_model"
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {
        "pyproject.toml",
        "README.md",
        "lepton_churn_model/__init__.py",
        "lepton_churn_model/plugin.py",
        "lepton_churn_model/data.py",
        "lepton_churn_model/model.py",
        "lepton_churn_model/evaluate.py",
        "lepton_churn_model/predictor.py",
        "lepton_churn_model/demo_data.csv",
        "lepton_churn_model/configs/__init__.py",
        "lepton_churn_model/configs/plugin/churn_model.yaml",
        "lepton_churn_model/configs/task/churn_model/churn.yaml",
        "lepton_churn_model/configs/hparams_search/churn_model.yaml",
        "tests/test_churn_model_contract.py",
        "tests/test_churn_model_data.py",
    } == files
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "lepton-churn-model"' in pyproject
    assert 'churn_model = "lepton_churn_model.plugin"' in pyproject
    assert "ChurnModelDataModule" in (package / "configs/task/churn_model/churn.yaml").read_text()
    assert "{{" not in "".join((root / f).read_text() for f in files if not f.endswith(".csv"))
    for source in package.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")
    lines = (package / "demo_data.csv").read_text().splitlines()
    assert lines[0] == "x1,x2,x3,x4,label" and len(lines) == 1 + len(demo_rows())


def test_demo_data_is_deterministic_and_balanced_enough() -> None:
    rows = demo_rows()
    assert rows == demo_rows()
    share = sum(r["label"] for r in rows) / len(rows)
    assert 0.3 < share < 0.7


def test_templates_ship_as_data_not_modules() -> None:
    from importlib import resources, util

    assert (
        util.find_spec("lepton_core.scaffold") is None
        or util.find_spec("lepton_core.scaffold").origin is None
    )
    templates = resources.files("lepton_core") / "scaffold" / "plugin"
    names = [p.name for p in Path(str(templates)).rglob("*") if p.is_file()]
    assert names and all(n.endswith(".tmpl") for n in names)
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert '"scaffold/**/*"' in pyproject
