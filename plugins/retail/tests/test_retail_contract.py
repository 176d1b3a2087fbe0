"""The core's plugin contract kit, run on every retail task with small demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing import check_plugin, task_names

SIZES = {
    "sales_forecasting": ["data.demo.n_stores=2", "data.demo.n_items=2", "data.demo.n_days=120", "model.n_members=2",
                          "model.hidden=32", "baselines.exponential_smoothing.max_history=60",
                          "baselines.theta.max_history=60"],
    "recommendation": ["data.demo.n_users=150", "data.demo.n_items=60"],
    "customer_behaviour": ["data.demo.n_customers=300", "data.demo.n_days=500", "data.batch_size=64"],
}


@pytest.mark.parametrize("task", task_names("retail"))
def test_retail_contract(task: str, tmp_path: Path) -> None:
    check_plugin("retail", tmp_path, task=task, overrides=SIZES)
