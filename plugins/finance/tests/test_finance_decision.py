"""Class weights, calibration and cost threshold, expected cost and the decile table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lepton_finance.data import FinanceDataModule
from lepton_finance.decision import DecisionPolicy, expected_cost, fit_policy, net_logits
from lepton_finance.evaluation import decile_table
from omegaconf import OmegaConf

from lepton_core.errors import ConfigError
from lepton_core.tabular.classifier import RiskClassifier, positive_weight


def test_positive_weight_rules() -> None:
    assert positive_weight("balanced", 0.2) == pytest.approx(4.0)
    assert positive_weight("sqrt", 0.2) == pytest.approx(2.0)
    assert positive_weight("none", 0.2) == 1.0
    assert positive_weight(7, 0.2) == 7.0
    with pytest.raises(ConfigError, match="unknown model.class_weight 'heavy'"):
        positive_weight("heavy", 0.2)


def test_expected_cost_counts_misses_and_false_alarms() -> None:
    y = np.array([1, 1, 0, 0])
    prob = np.array([0.9, 0.1, 0.8, 0.2])
    assert expected_cost(y, prob, 0.5, cost_fn=10, cost_fp=1) == pytest.approx((10 + 1) / 4)


def test_decile_table_ranks_riskiest_first() -> None:
    prob = np.linspace(0, 1, 100)
    y = (prob > 0.9).astype(int)
    table = decile_table(y, prob)
    assert table.rows[0][0] == 1 and table.rows[0][4] == 10 and table.rows[-1][4] == 0
    assert table.rows[0][6] == "100.0%"


def test_policy_threshold_from_costs_and_calibration_on_validation() -> None:
    dm = FinanceDataModule(demo="credit", n_rows=1500, seed=0)
    dm.setup()
    torch.manual_seed(0)
    model = RiskClassifier(**dm.model_kwargs(), hidden=(8,))
    model.net.skip.weight.data[0, : dm.preprocessor.n_numeric] = 0.0
    column = dm.preprocessor.numeric.index("delinquencies_2y")
    model.net.skip.weight.data[0, column] = 1.0  # rank by delinquencies: some signal
    task = OmegaConf.create({"threshold": None, "cost": {"false_negative": 9.0, "false_positive": 1.0}})
    logits, y = net_logits(model, dm.loader("val")), dm.targets["val"]
    policy = fit_policy(task, logits, y)
    assert policy.threshold == pytest.approx(0.1) and policy.threshold_source == "cost matrix"
    assert policy.calibrated and policy.slope > 0  # raw logits of 0..k delinquencies are far from probabilities
    assert policy.ece_val_calibrated < policy.ece_val_uncalibrated
    assert DecisionPolicy.from_state(policy.to_state()) == policy
    fixed = fit_policy(OmegaConf.create({"threshold": 0.3, "cost": {}}), logits, y)
    assert fixed.threshold == 0.3 and fixed.threshold_source == "task.threshold"
    with pytest.raises(ConfigError, match="task.threshold=1.5"):
        fit_policy(OmegaConf.create({"threshold": 1.5}), logits, y)
