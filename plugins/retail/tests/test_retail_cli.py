"""End to end through the real CLI: both tasks run and their bundles predict; bad inputs fail with one error line.

(Every other bad input is covered in process by the unit tests: the CLI path is the same.)"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from lepton_retail.demo import make_sales

from lepton_core.bundle import load_bundle
from lepton_core.testing.cli import latest_run, run_lepton

SMALL_SALES = [
    "debug=smoke", "data.demo.n_stores=2", "data.demo.n_items=3", "data.demo.n_days=150",
    "model.n_members=2", "model.hidden=32", "baselines.exponential_smoothing.max_history=60",
    "baselines.theta.max_history=60",
]
SMALL_INTERACTIONS = ["debug=smoke", "data.demo.n_users=150", "data.demo.n_items=60"]


def _one_error(result: object) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def test_sales_forecasting_end_to_end(tmp_path: Path) -> None:
    result = run_lepton(["run", "plugin=retail", *SMALL_SALES], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = latest_run(tmp_path, "retail", "sales_forecasting")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["primary_metric"] == "mase" and not metrics["greater_is_better"]
    assert {"model", "seasonal_naive", "exponential_smoothing", "theta"} <= set(metrics["metrics"]) <= {
        "model", "seasonal_naive", "exponential_smoothing", "theta", "network"}
    for name in ("mase", "smape", "wape", "quantile_loss", "coverage_80", "backtest_mase", "backtest_wape"):
        assert name in metrics["metrics"]["model"]
    for baseline in ("seasonal_naive", "exponential_smoothing", "theta"):
        assert {"mase", "smape", "wape", "quantile_loss", "backtest_mase"} <= set(metrics["metrics"][baseline])
        assert not any(k.startswith("coverage") for k in metrics["metrics"][baseline])
    forecasts = pd.read_csv(run_dir / "forecasts.csv")
    assert len(forecasts) == 6 * 14 and {"model_q0.1", "model_q0.9", "seasonal_naive"} <= set(forecasts.columns)
    assert (run_dir / "figures" / "forecasts.png").is_file()
    bundle = load_bundle(run_dir / "bundle")
    outputs = bundle.predictor.predict(bundle.manifest["input_example"])
    first = outputs[0]
    assert len(first["forecast"]) == 14 and len(first["ds"]) == 14 and set(first["quantiles"]) == {"0.1", "0.5", "0.9"}
    assert all(lo <= mid <= hi for lo, mid, hi in zip(*(first["quantiles"][q] for q in ("0.1", "0.5", "0.9"))))
    assert min(first["quantiles"]["0.1"]) >= 0
    # the example is made up (no real series in a bundle); tests/test_forecast_combination.py checks that the
    # bundle's state answers exactly what the backtest scored on real histories
    assert first["unique_id"] == "example-1"


def test_sales_forecasting_on_a_user_csv_without_covariates(tmp_path: Path) -> None:
    frame = make_sales(n_stores=1, n_items=3, n_days=120, seed=1)[["unique_id", "ds", "y"]]
    frame = frame.rename(columns={"unique_id": "store_item", "ds": "date", "y": "units"})
    frame = frame.drop(index=[5, 6, 7])  # missing days: filled with zero sales
    frame.to_csv(tmp_path / "sales.csv", index=False)
    result = run_lepton(
        ["run", "plugin=retail", *SMALL_SALES, "data.path=sales.csv", "data.covariates=[]", "data.id_col=store_item",
         "data.time_col=date", "data.target_col=units", "task.horizon=7"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads((latest_run(tmp_path, "retail", "sales_forecasting") / "metrics.json").read_text())
    assert metrics["data"]["filled missing points"] == 3 and metrics["data"]["frequency"] == "D"
    assert any("3 missing points were filled by the data.missing=zero rule" in note for note in metrics["notes"])


@pytest.mark.parametrize(
    ("edit", "overrides", "message"),
    [
        (lambda f: pd.concat([f, f.iloc[[3]]]), [], "error: 2 duplicate (unique_id, ds) rows, e.g. (S1_I01, 2024-01-04)"),
        (lambda f: f, ["task.horizon=30"], "error: series 'S1_I01' has 60 points but the horizon and backtest need at least 180"),
    ],
    ids=["duplicates", "horizon-too-long"],
)
def test_bad_sales_inputs_fail_with_one_error_line(tmp_path: Path, edit: object, overrides: list[str], message: str) -> None:
    frame = make_sales(n_stores=1, n_items=2, n_days=60, start="2024-01-01", seed=1).reset_index(drop=True)
    edit(frame).to_csv(tmp_path / "sales.csv", index=False)
    result = run_lepton(["run", "plugin=retail", *SMALL_SALES, "data.path=sales.csv", "task.horizon=7", *overrides], tmp_path)
    assert result.returncode == 3
    assert _one_error(result).startswith(message)


def test_recommendation_end_to_end(tmp_path: Path) -> None:
    result = run_lepton(["run", "plugin=retail", "task=recommendation", *SMALL_INTERACTIONS], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    run_dir = latest_run(tmp_path, "retail", "recommendation")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["primary_metric"] == "ndcg_at_10"
    assert set(metrics["metrics"]) == {"model", "popularity", "bpr_mf", "lightgcn"}
    for contender in metrics["metrics"].values():
        assert {"ndcg_at_10", "hr_at_10", "recall_at_20", "mrr", "catalog_coverage_at_10"} <= set(contender)
    bundle = load_bundle(run_dir / "bundle")
    known, unknown = bundle.predictor.predict(bundle.manifest["input_example"])
    assert known["known_user"] and len(known["items"]) == 10
    assert not unknown["known_user"] and len(unknown["items"]) == 5


def test_empty_interactions_file_fails_with_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "ratings.csv").write_text("")
    result = run_lepton(["run", "plugin=retail", "task=recommendation", *SMALL_INTERACTIONS, "data.path=ratings.csv"], tmp_path)
    assert result.returncode == 3
    assert _one_error(result).startswith("error: interactions file ratings.csv is empty")
