"""warehouse: the travel metric, loaders and their errors, slotting policies, deterministic routing, the predictor."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import DataError
from lepton_logistics.warehouse.data import WarehouseDataModule, clean_order_lines
from lepton_logistics.warehouse.layout import Layout
from lepton_logistics.warehouse.picking import PickSettings, ortools_route, s_shape_route
from lepton_logistics.warehouse.predictor import PickRoute, WarehousePredictor
from lepton_logistics.warehouse.slotting import ABCSlotting, AlphabeticalSlotting, abc_slotting, velocity_slotting

LAYOUT = Layout.grid(6, 10, 3)
SMALL_DEMO = {"n_skus": 40, "n_days": 84, "orders_per_day": 20}


def test_travel_metric_goes_along_an_aisle_or_round_the_shorter_end() -> None:
    length = LAYOUT.aisle_length_m  # 12 m
    same = LAYOUT.distance(np.array(2), 6.0, 1.0, np.array(2), 6.0, 9.0)
    front = LAYOUT.distance(np.array(0), 0.0, 1.0, np.array(3), 9.0, 2.0)
    back = LAYOUT.distance(np.array(0), 0.0, 11.0, np.array(3), 9.0, 10.0)
    assert float(same) == pytest.approx(8.0)
    assert float(front) == pytest.approx(9.0 + 3.0)
    assert float(back) == pytest.approx(9.0 + (length - 11.0) + (length - 10.0))
    best = LAYOUT.ranked_slots(1.0)[0]
    assert LAYOUT.level[best] == 1 and LAYOUT.bay[best] == 0  # golden zone, first bay, next to the depot


def test_ortools_routes_are_deterministic_optimal_on_small_lists_and_beat_s_shape() -> None:
    rng = np.random.default_rng(4)
    for _ in range(12):
        slots = rng.choice(LAYOUT.n_slots, 5, replace=False)
        first, again = ortools_route(LAYOUT, slots), ortools_route(LAYOUT, slots)
        assert first == again
        matrix = LAYOUT.matrix(slots)
        optimum = min(matrix[0, p[0] + 1] + sum(matrix[a + 1, b + 1] for a, b in itertools.pairwise(p))
                      + matrix[p[-1] + 1, 0] for p in itertools.permutations(range(5)))
        assert first.distance_m <= optimum * 1.05 + 1e-9
        assert first.distance_m <= s_shape_route(LAYOUT, slots).distance_m + 1e-9
        assert sorted(first.order) == list(range(5))


def test_s_shape_traverses_each_aisle_and_returns_in_the_last_of_an_odd_number() -> None:
    one_aisle = s_shape_route(LAYOUT, [LAYOUT.index_of("A01-B05-L1")])
    depot_to_aisle = LAYOUT.depot_x_m
    assert one_aisle.distance_m == pytest.approx(2 * (depot_to_aisle + 5.4))  # in to bay 5 and back out
    two = s_shape_route(LAYOUT, [LAYOUT.index_of("A01-B02-L1"), LAYOUT.index_of("A02-B02-L1")])
    # depot -> aisle 1 (4.5 m), up it, across the back (3 m), down aisle 0, back to the depot (7.5 m)
    assert two.distance_m == pytest.approx(4.5 + 2 * LAYOUT.aisle_length_m + 3.0 + depot_to_aisle)


def test_slotting_policies() -> None:
    velocity = np.array([1.0, 50.0, 5.0, 20.0, 0.0])
    ranked = LAYOUT.ranked_slots(1.0)
    slots = velocity_slotting(velocity, ranked)
    assert slots[1] == ranked[0] and slots[3] == ranked[1] and slots[4] == ranked[4]
    abc = abc_slotting(velocity, LAYOUT, ranked)
    cost = LAYOUT.slot_cost_s(1.0)
    assert cost[abc[1]] < cost[abc[2]] and len(set(abc.tolist())) == 5  # A (SKU 1) before C
    assert set(abc.tolist()) == set(ranked[:5].tolist())


def test_order_lines_are_checked_with_one_line_errors() -> None:
    lines = pd.DataFrame({"date": ["2025-01-01", "2025-01-02"], "order_id": ["o1", "o2"], "sku": ["a", "b"],
                          "qty": [1, 2]})
    assert clean_order_lines(pd.concat([lines, lines.iloc[:1]]), "t")["qty"].tolist() == [2, 2]  # repeated line summed
    with pytest.raises(DataError, match="missing column.*qty"):
        clean_order_lines(lines.drop(columns="qty"), "t")
    with pytest.raises(DataError, match=r"'qty' has 1 value\(s\) that are not positive whole numbers, e.g. '0'"):
        clean_order_lines(lines.assign(qty=[1, 0]), "t")
    with pytest.raises(DataError, match="'date' has 1 value.*'soon'"):
        clean_order_lines(lines.assign(date=["2025-01-01", "soon"]), "t")
    with pytest.raises(DataError, match="duplicate location id"):
        Layout.from_table(pd.DataFrame({"location": ["x", "x"], "aisle": [0, 1], "bay": [0, 0], "level": [0, 0]}), "s")
    with pytest.raises(DataError, match="'aisle' has 1 value.*'-1' at location y"):
        Layout.from_table(pd.DataFrame({"location": ["x", "y"], "aisle": [0, -1], "bay": [0, 0], "level": [0, 0]}), "s")


def test_datamodule_refuses_more_skus_than_slots_and_short_histories() -> None:
    with pytest.raises(DataError, match="40 SKUs but only 24 slots"):
        WarehouseDataModule(demo=SMALL_DEMO, layout={"n_aisles": 2, "n_bays": 4, "n_levels": 3}).setup()
    with pytest.raises(DataError, match=r"cover 3 period\(s\) of 7 day\(s\) before the test period; 12 are needed"):
        WarehouseDataModule(demo={**SMALL_DEMO, "n_days": 40}).setup()


def test_datamodule_windows_never_reach_into_validation_or_test() -> None:
    datamodule = WarehouseDataModule(demo=SMALL_DEMO, input_periods=4, max_eval_orders=30)
    datamodule.setup()
    n_skus, horizon = len(datamodule.skus), datamodule.horizon_periods
    x, y = datamodule.windows["train"]
    assert x.shape[1] == 4 and len(y) % n_skus == 0
    last_train_origin = 4 + len(y) // n_skus - 1
    assert last_train_origin + horizon <= datamodule.n_history - horizon  # train targets end before validation's
    assert datamodule.counts[datamodule.test_origin:].sum() == (datamodule.lines["period"] >= 0).sum()
    assert len(datamodule.test_orders()) == 30
    alphabetical = AlphabeticalSlotting().predict((datamodule, None)).slot_of_sku
    assert [datamodule.layout.names[s] for s in alphabetical[:2]] == ["A01-B01-L1", "A01-B01-L2"]
    assert ABCSlotting(lookback_periods=4).predict((datamodule, datamodule.layout.ranked_slots(1.0))).velocity is not None


@pytest.fixture
def predictor() -> WarehousePredictor:
    skus = ["SKU0001", "SKU0002", "SKU0003", "SKU0004"]
    return WarehousePredictor(LAYOUT, PickSettings(), skus, [0, 40, 100, 170], [9.0, 5.0, 2.0, 1.0])


def test_predictor_routes_a_pick_list_and_applies_the_current_slotting(predictor: WarehousePredictor) -> None:
    request = {"order_id": "o9", "lines": [{"sku": "SKU0003", "qty": 2}, {"sku": "SKU0001"}, {"sku": "SKU0004"}]}
    (answer,) = predictor.predict([request])
    PickRoute.model_validate(answer)
    assert sorted(s["sku"] for s in answer["stops"]) == ["SKU0001", "SKU0003", "SKU0004"]
    assert answer["order_time_s"] == pytest.approx(30 + answer["distance_m"] + 3 * 6 + 1
                                                   + sum(LAYOUT.level_extra_s[s["level"]] for s in answer["stops"]))
    (moved,) = predictor.predict([{**request, "slotting": [{"sku": "SKU0004", "location": "A01-B01-L2"}],
                                   "include_slotting": True}])
    assert next(s for s in moved["stops"] if s["sku"] == "SKU0004")["location"] == "A01-B01-L2"
    assert len(moved["slotting"]) == 4 and moved["distance_m"] < answer["distance_m"]


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"lines": [{"sku": "NOPE"}]}, r"unknown SKU\(s\) NOPE"),
        ({"lines": [{"sku": "SKU0001"}], "slotting": [{"sku": "SKU0001", "location": "Z9"}]}, "unknown location 'Z9'"),
        ({"lines": [{"sku": "SKU0001", "qty": 0}]}, "lines.0.qty"),
        ({"lines": []}, "field 'lines'"),
        ({"lines": [{"sku": "SKU0001"}] * 201}, "field 'lines'"),
        ({"lines": [{"sku": "SKU0001"}], "router": "tsp"}, "field 'router'"),
    ],
)
def test_predictor_refuses_bad_requests(predictor: WarehousePredictor, request_: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        predictor.predict([{"lines": [{"sku": "SKU0002"}]}, request_])
