"""order_tracking: demo events, the events-table checks, the order-level split, baselines and the grouped predictor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lepton_core.deploy.files import read_chunks
from lepton_core.errors import DataError
from lepton_logistics.tracking.baselines import PrefixGradientBoosting, StatusHubMedian
from lepton_logistics.tracking.data import OrderTrackingDataModule
from lepton_logistics.tracking.demo import generate_order_events
from lepton_logistics.tracking.events import STATUS_INDEX, check_events, lifecycle_problem
from lepton_logistics.tracking.model import RemainingTimeModel
from lepton_logistics.tracking.predictor import OrderTrackingPredictor, live_order_model


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_order_events(240, seed=3, n_days=30)


@pytest.fixture(scope="module")
def datamodule(events: pd.DataFrame) -> OrderTrackingDataModule:
    module = OrderTrackingDataModule(batch_size=128)
    module.load_frame = lambda: events
    module.setup()
    return module


def _check(frame: pd.DataFrame, **kwargs: object) -> object:
    return check_events(frame, "order_id", "timestamp", "status", **kwargs)


def test_demo_is_deterministic_and_every_order_a_possible_history(events: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(events, generate_order_events(240, seed=3, n_days=30))
    checked, dropped = _check(events)
    assert dropped == 0 and checked.orders["delivered"].all()
    assert {"failed_attempt", "delayed"} <= set(events["status"])


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.drop(columns="status"), r"no status column 'status'"),
    (lambda f: f.assign(timestamp=f["timestamp"].where(f.index != 5, "soon")), r"are not timestamps, like 'soon' \(order"),
    (lambda f: f.assign(status=f["status"].where(f.index != 5, "lost")), r"unknown status \('lost'.*allowed: created, picked"),
    (lambda f: f.iloc[:0], r"no rows"),
])
def test_bad_events_tables_are_one_line_errors(events: pd.DataFrame, change, message: str) -> None:
    with pytest.raises(DataError, match=message):
        _check(change(events))


def test_out_of_order_events_are_refused_or_dropped(events: pd.DataFrame) -> None:
    order = events["order_id"].iloc[0]
    rows = events.index[(events["order_id"] == order) & (events["status"] == "packed")]
    broken = events.copy()
    broken.loc[rows, "timestamp"] = "2020-01-01 00:00:00"
    with pytest.raises(DataError, match=rf"order '{order}' starts with 'packed'.*data.invalid_orders=drop"):
        _check(broken)
    checked, dropped = _check(broken, invalid_orders="drop")
    assert dropped == 1 and order not in set(checked.orders["order"])
    assert lifecycle_problem(["created", "dispatched", "picked"]) == "has 'picked' after 'dispatched' (events out of order)"
    assert lifecycle_problem(["created", "delivered", "delayed"]) == "has 'delayed' after 'delivered'"
    assert lifecycle_problem(["created", "out_for_delivery", "failed_attempt", "out_for_delivery", "delivered"]) is None


def test_split_by_order_in_time_with_targets_to_delivery(datamodule: OrderTrackingDataModule) -> None:
    splits = datamodule.split_orders
    assert not set(splits["train"]) & set(splits["test"]) and not set(splits["val"]) & set(splits["test"])
    created = datamodule.orders["created"]
    assert created.iloc[splits["test"]].min() >= created.iloc[splits["train"]].max()
    for split in ("train", "test"):
        assert set(datamodule.prefixes[split].order) <= set(splits[split])
        assert (datamodule.targets[split] >= 0).all()
    train = datamodule.prefixes["train"]
    early = datamodule.targets["train"][train.current == STATUS_INDEX["created"]]
    late = datamodule.targets["train"][train.current == STATUS_INDEX["out_for_delivery"]]
    assert np.median(early) > 3 * np.median(late)


def test_baselines_learn_beyond_one_median(datamodule: OrderTrackingDataModule) -> None:
    y = datamodule.targets["test"]
    constant = np.abs(y - np.median(datamodule.targets["train"])).mean()
    for baseline in (StatusHubMedian(min_count=10), PrefixGradientBoosting(max_iter=40)):
        p10, p50, p90 = baseline.fit(datamodule).predict((datamodule, "test"))
        assert np.all(p10 <= p50) and np.all(p50 <= p90)
        assert np.abs(p50 - y).mean() < 0.8 * constant


def _predictor(datamodule: OrderTrackingDataModule) -> OrderTrackingPredictor:
    schema = live_order_model("order_id", "timestamp", "status", datamodule.preprocessor, None)
    bound = type("Bound", (OrderTrackingPredictor,), {"input_model": schema, "group_field": "order_id"})
    return bound(RemainingTimeModel(**datamodule.model_kwargs()).eval(), datamodule.preprocessor, datamodule.max_events)


def test_an_events_table_is_one_item_per_live_order(datamodule: OrderTrackingDataModule, events: pd.DataFrame,
                                                    tmp_path: Path) -> None:
    live = events[events["order_id"].isin(["ord00001", "ord00002"]) & (events["status"] != "delivered")]
    live = live.groupby("order_id").head(4).assign(as_of="2030-01-01 12:00")
    live.to_csv(tmp_path / "live.csv", index=False)
    [chunk] = read_chunks(tmp_path / "live.csv", "groups", 100, None, group_field="order_id")
    predictor = _predictor(datamodule)
    outputs = predictor.predict(chunk.records)
    assert [o["order_id"] for o in outputs] == list(dict.fromkeys(live["order_id"]))
    for out in outputs:
        assert out["as_of"] == "2030-01-01 12:00:00" and out["status"] in STATUS_INDEX
        assert 0 <= out["remaining_hours_p10"] <= out["remaining_hours_p50"] <= out["remaining_hours_p90"]
        assert out["eta_p50"] <= out["eta_p90"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: {**o, "rows": [*o["rows"], {"timestamp": "2025-03-09 10:00", "status": "lost"}]}, r"unknown status 'lost'; allowed"),
    (lambda o: {**o, "as_of": "2000-01-01"}, r"as_of 2000-01-01 is before the last event"),
    (lambda o: {**o, "rows": o["rows"][::-1][:-1]}, r"starts with 'picked'"),
    (lambda o: {**o, "rows": o["rows"] * 300}, r"at most 500"),
    (lambda o: {**o, "colour": "red"}, r"colour"),
    (lambda o: {**o, "as_of": "2999-01-01"}, r"as_of 2999-01-01 is outside 1970-2199"),
])
def test_serve_requests_are_validated(datamodule: OrderTrackingDataModule, change, message: str) -> None:
    order = {"order_id": "o1", "service_level": "express", "rows": [
        {"timestamp": "2025-03-08 09:00", "status": "created"}, {"timestamp": "2025-03-08 11:00", "status": "Picked"}]}
    predictor = _predictor(datamodule)
    [ok] = predictor.predict([order])
    assert ok["status"] == "picked"
    with pytest.raises(DataError, match=message):
        predictor.predict([change(order)])
