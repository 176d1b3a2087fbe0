"""The core's plugin contract kit, run on both finance tasks with small demo tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from lepton_core.testing import check_plugin, task_names


@pytest.mark.parametrize("task", task_names("finance"))
def test_finance_contract(task: str, tmp_path: Path) -> None:
    sizes = {"credit_scoring": ["data.n_rows=1200"], "fraud_detection": ["data.n_rows=8000"]}
    check_plugin("finance", tmp_path, task=task, overrides=sizes)
