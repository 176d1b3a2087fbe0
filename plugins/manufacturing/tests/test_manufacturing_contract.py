"""The core's plugin contract kit, run on every manufacturing task with tiny demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing import check_plugin, task_names

TINY = {
    "defect_detection": ["data.n_train=24", "data.n_test_good=8", "data.n_test_defect=8", "data.image_size=32",
                         "model.base_channels=4"],
    "predictive_maintenance": ["data.n_units=10", "data.n_test_units=4", "data.window=20", "model.hidden_size=8",
                               "baselines.gradient_boosting.max_iter=20"],
    "inventory": ["data.demo.n_skus=4", "data.demo.n_days=240", "data.test_days=28", "task.max_lead_time=7",
                  "model.hidden=16", "model.n_members=1", "baselines.theta.max_history=60"],
}


@pytest.mark.parametrize("task", task_names("manufacturing"))
def test_manufacturing_contract(task: str, tmp_path: Path) -> None:
    check_plugin("manufacturing", tmp_path, task=task, overrides=TINY)
