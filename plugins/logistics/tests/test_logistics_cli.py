"""Every logistics task end to end through the real CLI, routing on a trained eta bundle, and bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lepton_core.bundle import load_bundle
from lepton_core.testing.cli import latest_run, run_lepton
from lepton_logistics.eta.demo import generate_city_deliveries
from lepton_logistics.routing.problem import generate_problem

pytestmark = pytest.mark.slow


def _ok(process, run_dir_parent: Path, task: str) -> Path:
    assert process.returncode == 0, process.stdout + process.stderr
    run_dir = latest_run(run_dir_parent, "logistics", task)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["task"] == task and "model" in metrics["metrics"]
    bundle = load_bundle(run_dir / "bundle")
    assert bundle.predictor.predict(bundle.manifest["input_example"])
    return run_dir


def _refused(process) -> str:
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


@pytest.fixture(scope="module")
def eta_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eta")
    process = run_lepton(
        ["run", "plugin=logistics", "debug=smoke", "data.n_rows=600", "baselines.gradient_boosting.max_iter=20"], out
    )
    return _ok(process, out, "eta")


def test_eta_default_task_end_to_end(eta_run: Path) -> None:
    metrics = json.loads((eta_run / "metrics.json").read_text())["metrics"]
    assert set(metrics) == {"model", "linear_distance", "gradient_boosting"}
    assert {"mae", "rmse", "mape", "p90_coverage"} <= set(metrics["model"])
    bundle = load_bundle(eta_run / "bundle")
    [out] = bundle.predictor.predict([{"distance_km": 3.0, "hour": 18, "weekday": 2, "weather": "rain",
                                       "courier": "courier_07", "items": 2}])
    assert 0 < out["p50"] <= out["p90"]


def test_routing_on_travel_times_from_the_eta_bundle(eta_run: Path, tmp_path: Path) -> None:
    args = ["run", "plugin=logistics", "task=route_optimization", "data.n_orders=8", "data.n_vehicles=2",
            "task.time_limit_s=0.5", f"task.eta_bundle={eta_run / 'bundle'}"]
    run_dir = _ok(run_lepton(args, tmp_path), tmp_path, "route_optimization")
    routes = json.loads((run_dir / "routes.json").read_text())
    assert routes["model"]["travel_times"] == "eta bundle (P50)"
    assert (run_dir / "figures" / "routes.png").is_file()


def test_demand_forecasting_end_to_end(tmp_path: Path) -> None:
    args = ["run", "plugin=logistics", "task=demand_forecasting", "debug=smoke", "data.demo.n_hubs=3",
            "data.demo.n_days=200"]
    run_dir = _ok(run_lepton(args, tmp_path), tmp_path, "demand_forecasting")
    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert {"mase", "wape"} <= set(metrics["seasonal_naive"])
    assert {"exponential_smoothing", "theta"} <= set(metrics)
    assert {"mase", "smape", "wape", "quantile_loss", "coverage_80"} <= set(metrics["model"])


def test_eta_out_of_range_coordinates_are_refused(tmp_path: Path) -> None:
    table = generate_city_deliveries(200, seed=0)
    table.loc[7, "dropoff_lat"] = 123.0
    table.to_csv(tmp_path / "deliveries.csv", index=False)
    line = _refused(run_lepton(["run", "plugin=logistics", "debug=smoke", "data.path=deliveries.csv"], tmp_path))
    assert "columns 'dropoff_lat'/'dropoff_lon'" in line and "out of range" in line


def test_routing_negative_demand_is_refused(tmp_path: Path) -> None:
    problem = generate_problem(n_orders=5, n_vehicles=1, seed=0).model_dump()
    problem["orders"][2]["demand"] = -4
    (tmp_path / "problem.json").write_text(json.dumps(problem))
    args = ["run", "plugin=logistics", "task=route_optimization", "data.path=problem.json"]
    line = _refused(run_lepton(args, tmp_path))
    assert "orders.2.demand: must not be negative" in line
