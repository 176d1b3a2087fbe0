"""Predictive maintenance: readers, splits, normalisation, metrics, predictor and their errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from lepton_core import DataError
from lepton_manufacturing.maintenance.baseline import window_features
from lepton_manufacturing.maintenance.data import MaintenanceDataModule
from lepton_manufacturing.maintenance.evaluation import phm08_score, rul_metrics
from lepton_manufacturing.maintenance.fleet import CMAPSS_COLUMNS, generate_fleet, read_cmapss
from lepton_manufacturing.maintenance.model import RULNet
from lepton_manufacturing.maintenance.predictor import RULPredictor


def test_generated_fleet_is_deterministic_and_runs_to_failure() -> None:
    a, b = generate_fleet(5, 3, seed=1), generate_fleet(5, 3, seed=1)
    pd.testing.assert_frame_equal(a.train, b.train)
    assert list(a.train.columns) == ["unit", "time", *CMAPSS_COLUMNS[2:]]
    assert a.test_rul is not None and (a.test_rul > 0).all()
    assert not a.train.equals(generate_fleet(5, 3, seed=2).train)


def test_cmapss_reader_finds_train_test_and_rul(cmapss_dir: Path) -> None:
    fleet = read_cmapss(cmapss_dir)
    assert fleet.source == "C-MAPSS FD001"
    assert fleet.train["unit"].nunique() == 8 and fleet.test is not None
    assert len(fleet.test_rul) == 4


def test_cmapss_reader_errors(tmp_path: Path, cmapss_writer: Any) -> None:
    cmapss_writer(tmp_path, "FD001")
    cmapss_writer(tmp_path, "FD002")
    with pytest.raises(DataError, match="holds 2 C-MAPSS training files"):
        read_cmapss(tmp_path)
    (tmp_path / "RUL_FD002.txt").unlink()
    with pytest.raises(DataError, match="has no RUL_FD002.txt"):
        read_cmapss(tmp_path, "FD002")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train_X.txt").write_text("1 1 0.1 0.2\n1 2 0.1 0.2\n")
    with pytest.raises(DataError, match="has 4 columns, C-MAPSS files have 26"):
        read_cmapss(bad)


def test_datamodule_splits_by_unit_and_normalises_on_training_units(tmp_path: Path, cmapss_writer: Any) -> None:
    cmapss_writer(tmp_path, units=10)
    dm = MaintenanceDataModule(path=str(tmp_path), window=20, rul_cap=125, seed=0)
    dm.setup()
    units = {name: set(split.units.tolist()) for name, split in dm.splits.items() if name != "test"}
    assert units["train"].isdisjoint(units["val"])
    assert len(dm.splits["test"]) == 4  # one last window per C-MAPSS test unit
    train_rows = read_cmapss(tmp_path).train
    train_rows = train_rows[train_rows["unit"].isin(units["train"])]
    np.testing.assert_allclose(dm.mean, train_rows[dm.channels].mean().to_numpy(), rtol=1e-6)
    assert dm.splits["train"].rul.max() <= 125
    assert "setting_3" not in dm.channels  # constant in the generated fleet


def test_long_table_holds_out_whole_units(tmp_path: Path) -> None:
    fleet = generate_fleet(12, 0, seed=5)
    path = tmp_path / "fleet.csv"
    fleet.train.rename(columns={"unit": "engine", "time": "cycle"}).to_csv(path, index=False)
    dm = MaintenanceDataModule(path=str(path), unit_column="engine", time_column="cycle", window=15, seed=0)
    dm.setup()
    test_units = set(dm.splits["test"].units.tolist())
    assert test_units.isdisjoint(dm.splits["train"].units.tolist())
    assert dm.test_mode.startswith("every window")
    assert (dm.splits["test"].rul == 0).any()  # held-out units run to failure


def test_long_table_bad_inputs(tmp_path: Path) -> None:
    path = tmp_path / "fleet.csv"
    pd.DataFrame({"unit": [1, 1], "cycle": [1, 2], "temp": [1.0, 2.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="lacks column\\(s\\) pressure"):
        MaintenanceDataModule(path=str(path), sensor_columns=["temp", "pressure"]).setup()
    with pytest.raises(DataError, match="data path not found"):
        MaintenanceDataModule(path=str(tmp_path / "nope.csv")).setup()
    short = generate_fleet(6, 0, seed=0).train
    short.rename(columns={"time": "cycle"}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no window of 500 cycles"):
        MaintenanceDataModule(path=str(path), window=500).setup()


def test_phm08_score_penalises_late_more_than_early() -> None:
    assert phm08_score([50], [50]) == 0.0
    late, early = phm08_score([50], [60]), phm08_score([50], [40])
    assert late == pytest.approx(np.expm1(1.0)) and early == pytest.approx(np.expm1(10 / 13))
    assert late > early
    metrics = rul_metrics([10, 20], [12, 18])
    assert metrics["rmse"] == pytest.approx(2.0) and metrics["mae"] == pytest.approx(2.0)


def test_window_features_shape_and_slope() -> None:
    ramp = np.tile(np.arange(5, dtype=np.float32)[None, :, None], (2, 1, 3))
    features = window_features(ramp)
    assert features.shape == (2, 18)
    np.testing.assert_allclose(features[:, -3:], 1.0)  # slope of 0, 1, 2, 3, 4


@pytest.mark.parametrize("cell", ["gru", "lstm", "cnn"])
def test_rul_net_outputs_capped_cycles(cell: str) -> None:
    net = RULNet(n_channels=4, window=12, rul_cap=100, cell=cell, hidden_size=8).eval()
    out = net(torch.randn(5, 12, 4) * 10)
    assert out.shape == (5,) and float(out.min()) >= 0 and float(out.max()) <= 100


def _predictor() -> RULPredictor:
    state = {"channels": ["a", "b"], "mean": [0.0, 1.0], "std": [1.0, 2.0], "window": 4, "rul_cap": 125.0}
    return RULPredictor(RULNet(n_channels=2, window=4, hidden_size=8).eval(), state)


def test_predictor_uses_the_last_window_and_refuses_bad_windows() -> None:
    predictor = _predictor()
    out = predictor.predict([{"readings": {"a": [1, 2, 3, 4, 5], "b": [1, 1, 1, 1, 1], "extra": [0]}}])
    assert 0 <= out[0]["rul"] <= 125
    same = predictor.predict([{"readings": {"a": [2, 3, 4, 5], "b": [1, 1, 1, 1]}}])
    assert same[0]["rul"] == pytest.approx(out[0]["rul"])
    with pytest.raises(DataError, match="sensor 'a' has 3 readings, the model needs a window of 4"):
        predictor.predict([{"readings": {"a": [1, 2, 3], "b": [1, 2, 3, 4]}}])
    with pytest.raises(DataError, match="missing sensor column\\(s\\) b"):
        predictor.predict([{"readings": {"a": [1, 2, 3, 4]}}])
    with pytest.raises(DataError, match="readings"):
        predictor.predict([{"readings": {"a": [1, 2, 3, float("nan")], "b": [1, 2, 3, 4]}}])
