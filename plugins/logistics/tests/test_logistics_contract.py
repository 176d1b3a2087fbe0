"""The core's plugin contract kit, run on every logistics task with small demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing import check_plugin, task_names

SMALL = {
    "eta": ["data.n_rows=600", "baselines.gradient_boosting.max_iter=20"],
    "demand_forecasting": ["data.demo.n_hubs=3", "data.demo.n_days=200"],
    "route_optimization": ["data.n_orders=10", "data.n_vehicles=3", "task.time_limit_s=0.5"],
    "warehouse": ["data.demo.n_skus=60", "data.demo.n_days=100", "data.demo.orders_per_day=25", "data.input_periods=4",
                  "data.layout.n_aisles=4", "data.layout.n_bays=8", "data.max_eval_orders=40"],
    "order_tracking": ["data.n_orders=150", "data.n_days=20", "baselines.gradient_boosting.max_iter=20"],
}


@pytest.mark.parametrize("task", task_names("logistics"))
def test_logistics_contract(task: str, tmp_path: Path) -> None:
    check_plugin("logistics", tmp_path, task=task, overrides=SMALL)
