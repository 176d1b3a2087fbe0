"""The core's plugin contract kit, run on every finance task with small demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing import check_plugin, task_names

PORTFOLIO_SMOKE = ["data.n_assets=8", "data.n_days=400", "data.window=20", "data.cov_window=40", "model.hidden=[16]"]


@pytest.mark.parametrize("task", task_names("finance"))
def test_finance_contract(task: str, tmp_path: Path) -> None:
    sizes = {"credit_scoring": ["data.n_rows=1200"], "fraud_detection": ["data.n_rows=8000"], "portfolio": PORTFOLIO_SMOKE}
    check_plugin("finance", tmp_path, task=task, overrides=sizes)
