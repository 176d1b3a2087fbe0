"""Inventory task: the replenishment simulation by hand, the loaders' one-line errors, and a tiny run's bundle
through `lepton predict` on a CSV and `lepton serve` JSON."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import DataError
from lepton_manufacturing.inventory.data import InventoryDataModule
from lepton_manufacturing.inventory.demo import make_part_demand
from lepton_manufacturing.inventory.policy import fit_correlation, network_lead_time_demand, simulate, summarise

COSTS = {"holding_cost": 1.0, "stockout_cost": 10.0, "order_cost": 5.0}
TINY = ["data.demo.n_skus=4", "data.demo.n_days=240", "data.test_days=28", "task.max_lead_time=7",
        "task.review_period=7", "model.hidden=16", "model.n_members=1", "baselines.theta.max_history=60"]


def test_simulation_backorders_by_hand() -> None:
    # 10 a day, lead time 2, reviews every 2 days up to 30: day 0 orders 30 - 25 = 5 (arrives day 2)
    result = simulate(np.full(6, 10.0), np.array([0, 2, 4]), np.array([30.0, 30.0, 30.0]), 2, 2, 25.0, COSTS)
    np.testing.assert_allclose(result.orders, [5, 0, 20, 0, 20, 0])
    np.testing.assert_allclose(result.on_hand, [15, 5, 0, -10, 0, -10])
    np.testing.assert_allclose(result.short, [0, 0, 0, 10, 0, 10])
    assert result.holding_cost == 20 and result.stockout_cost == 200 and result.order_cost == 15
    lost = simulate(np.full(6, 10.0), np.array([0, 2, 4]), np.array([30.0, 30.0, 30.0]), 2, 2, 25.0, COSTS, "lost_sales")
    assert lost.on_hand.min() == 0 and lost.short.sum() < result.short.sum()
    summary = summarise([result])
    assert summary["total_cost"] == 235 and summary["fill_rate"] == pytest.approx(1 - 20 / 60)
    assert summary["cycle_service_level"] == 0.0 and summary["stockout_days"] == 2


def test_correlation_is_fitted_to_how_daily_errors_add_up() -> None:
    rng = np.random.default_rng(0)
    levels, cover = [0.1, 0.5, 0.9], np.full(4000, 10)
    quantiles = np.broadcast_to(np.array([10 - 1.2816, 10.0, 10 + 1.2816]), (4000, 10, 3))
    independent = (10 + rng.normal(size=(4000, 10))).sum(1)
    common = 100 + 10 * rng.normal(size=4000)
    scale = np.ones(4000)
    assert fit_correlation(quantiles, levels, cover, independent, scale, 0.9) <= 0.1
    assert fit_correlation(quantiles, levels, cover, common, scale, 0.9) >= 0.9
    mean, sigma = network_lead_time_demand(quantiles[:1], levels, np.array([4]), 0.0)
    assert mean[0] == pytest.approx(40) and sigma[0] == pytest.approx(2.0, rel=1e-3)


def _module(tmp_path: Path, demand: pd.DataFrame, parameters: pd.DataFrame | None = None) -> InventoryDataModule:
    path = tmp_path / "demand.csv"
    demand.to_csv(path, index=False)
    params = None
    if parameters is not None:
        params = tmp_path / "skus.csv"
        parameters.to_csv(params, index=False)
    return InventoryDataModule(input_size=14, review_period=7, max_lead_time=7, test_days=28, path=str(path),
                               parameters_path=None if params is None else str(params))


@pytest.mark.parametrize(
    ("change", "parameters", "message"),
    [
        (lambda f: f.assign(demand=f["demand"].where(f.index != 5, -3.0)), None, r"SKU 'P001' has 1 negative demand"),
        (lambda f: f.drop(columns=["demand"]), None, r"column\(s\) demand missing"),
        (None, pd.DataFrame({"sku": ["P001", "P999"], "lead_time": [3, 3]}), r"not in the demand table, e.g. 'P999'"),
        (None, pd.DataFrame({"sku": ["P002"], "lead_time": [30]}), r"lead_time of SKU 'P002' is 30 days, out of range"),
        (None, pd.DataFrame({"sku": ["P002"], "holding": [1.0]}), r"unknown column\(s\) holding"),
        (None, pd.DataFrame({"sku": ["P002"], "stockout_cost": [-1.0]}), r"stockout_cost of SKU 'P002' is -1"),
    ],
)
def test_bad_demand_or_parameters_is_one_clear_error(tmp_path: Path, change, parameters, message) -> None:
    demand = make_part_demand(n_skus=3, n_days=120, seed=1)
    module = _module(tmp_path, change(demand) if change else demand, parameters)
    with pytest.raises(DataError, match=message):
        module.setup()


def test_parameters_fill_gaps_with_defaults(tmp_path: Path) -> None:
    parameters = pd.DataFrame({"sku": ["P001", "P002"], "lead_time": [3, None], "order_cost": [50.0, 60.0]})
    module = _module(tmp_path, make_part_demand(n_skus=3, n_days=120, seed=1), parameters)
    module.setup()
    table = module.parameters
    assert table.loc["P001", "lead_time"] == 3 and table.loc["P002", "lead_time"] == 7
    assert table.loc["P002", "order_cost"] == 60 and table.loc["P003", "order_cost"] == 20
    assert module.defaulted == ["P003"]
    assert module.horizon == 14 and len(module.review_origins()[0]) == 4


def test_tiny_run_bundle_predicts_a_csv_and_serves_json(tmp_path: Path) -> None:
    import httpx

    from lepton_core.bundle import load_bundle
    from lepton_core.deploy.batch import predict_file
    from lepton_core.serve.app import create_app
    from lepton_core.serve.server import ServerThread
    from lepton_core.testing import check_fit

    result = check_fit("manufacturing", "inventory", tmp_path, overrides=TINY)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["primary_metric"] == "total_cost" and not metrics["greater_is_better"]
    assert {"model", "moving_average", "theta"} <= set(metrics["metrics"])
    assert metrics["metric_directions"]["fill_rate"] == "higher"
    assert (result.run_dir / "inventory_simulation.csv").is_file()
    example = json.loads((result.bundle_dir / "lepton.json").read_text())["input_example"]
    rows = pd.DataFrame([{**item, "demand": " ".join(map(str, item["demand"]))} for item in example])
    rows.to_csv(tmp_path / "positions.csv", index=False)
    predict_file(result.bundle_dir, tmp_path / "positions.csv", tmp_path / "orders.csv", progress=False)
    orders = pd.read_csv(tmp_path / "orders.csv")
    assert list(orders["sku"]) == [item["sku"] for item in example]
    assert (orders["order_quantity"] >= 0).all() and (orders["order_up_to"] > orders["lead_time_demand"]).all()
    with ServerThread(create_app(load_bundle(result.bundle_dir), "torch")) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "server never became ready"
            time.sleep(0.02)
        answer = http.post("/predict", json={**example[0], "on_hand": 0.0, "on_order": 0.0, "service_level": 0.99})
        assert answer.status_code == 200, answer.text
        assert answer.json()["order_quantity"] == pytest.approx(answer.json()["order_up_to"])
        refused = http.post("/predict", json={**example[0], "lead_time": 30})
        assert refused.status_code == 422 and "lead_time 30" in refused.text
