"""The verdict names every metric where a baseline beats the model: Evaluation, terminal, report.html, metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from lepton_core import Evaluation, RunContext
from lepton_core.hooks.specs import metric_direction
from lepton_core.report.html import verdict, write_report
from lepton_core.report.metrics_file import write_metrics
from lepton_core.report.summary import print_summary

METRICS = {
    "model": {"roc_auc": 0.90, "pr_auc": 0.40, "expected_cost": 12.0, "ece": 0.02, "threshold": 0.5},
    "logistic": {"roc_auc": 0.85, "pr_auc": 0.55, "expected_cost": 9.0, "ece": 0.05, "threshold": 0.3},
    "gbm": {"roc_auc": 0.80, "pr_auc": 0.30, "expected_cost": 15.0, "ece": 0.01, "threshold": 0.7},
}


def _ctx(tmp_path: Path) -> RunContext:
    return RunContext(cfg=OmegaConf.create({}), plugin="demo", task="fit", run_dir=tmp_path, seed=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("roc_auc", True), ("hr@10", True), ("ndcg@10", True), ("sensitivity_lesion", True),
        ("rmse", False), ("mase", False), ("log_loss", False), ("expected_cost", False),
        ("threshold", None), ("roc_auc_ci_low", None), ("rows", None),
    ],
)
def test_core_table_knows_the_well_known_names(name: str, expected: bool | None) -> None:
    assert metric_direction(name) is expected


def test_every_metric_a_baseline_wins_is_listed_primary_first() -> None:
    evaluation = Evaluation(metrics=METRICS, primary_metric="roc_auc")
    assert not evaluation.baseline_wins()
    assert evaluation.baseline_wins_by_metric() == {"logistic": ["pr_auc", "expected_cost"], "gbm": ["ece"]}
    text = verdict(evaluation)
    assert "logistic beats the model on pr_auc, expected_cost." in text
    assert "gbm beats the model on ece." in text


def test_plugin_directions_extend_and_override_the_core_table() -> None:
    evaluation = Evaluation(
        metrics=METRICS, primary_metric="roc_auc", metric_directions={"threshold": True, "ece": True}
    )
    assert evaluation.baseline_wins_by_metric() == {
        "logistic": ["pr_auc", "expected_cost", "ece"], "gbm": ["threshold"]
    }


def test_primary_direction_comes_from_greater_is_better() -> None:
    evaluation = Evaluation(
        metrics={"model": {"mae": 2.0, "r2": 0.5}, "naive": {"mae": 1.0, "r2": 0.4}},
        primary_metric="mae",
        greater_is_better=False,
    )
    assert evaluation.baseline_wins()
    assert evaluation.baseline_wins_by_metric() == {"naive": ["mae"]}


def test_unknown_missing_and_non_finite_values_are_not_compared() -> None:
    evaluation = Evaluation(
        metrics={"model": {"score": 1.0, "rmse": float("nan")}, "base": {"score": 2.0, "rmse": 0.1}},
        primary_metric="score",
    )
    assert evaluation.baseline_wins_by_metric() == {"base": ["score"]}
    assert Evaluation(metrics={"base": {"f1": 0.5}}, primary_metric="f1").baseline_wins_by_metric() == {}


def test_outputs_state_the_losses_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx, evaluation = _ctx(tmp_path), Evaluation(metrics=METRICS, primary_metric="roc_auc")
    print_summary(ctx, evaluation, None, {"evaluate": 1.0})
    terminal = " ".join(capsys.readouterr().out.split())
    assert "The model beats the best baseline 'logistic' on roc_auc." in terminal
    assert "logistic beats the model on pr_auc, expected_cost." in terminal
    assert "gbm beats the model on ece." in terminal
    html = write_report(ctx, evaluation, {"evaluate": 1.0}).read_text()
    assert "logistic beats the model on pr_auc, expected_cost." in html and 'class="verdict warn"' in html
    document = json.loads(write_metrics(ctx, evaluation, {"evaluate": 1.0}).read_text())
    assert document["baseline_wins_on"] == {"logistic": ["pr_auc", "expected_cost"], "gbm": ["ece"]}
    assert document["metric_directions"]["expected_cost"] == "lower" and "threshold" not in document["metric_directions"]


def test_a_model_that_wins_everywhere_is_told_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evaluation = Evaluation(metrics={"model": {"f1": 0.9, "rmse": 1.0}, "base": {"f1": 0.5, "rmse": 2.0}}, primary_metric="f1")
    assert evaluation.baseline_wins_by_metric() == {}
    print_summary(_ctx(tmp_path), evaluation, None, {})
    assert "No baseline beats the model on any metric" in capsys.readouterr().out
    assert 'class="verdict ok"' in write_report(_ctx(tmp_path), evaluation, {}).read_text()
