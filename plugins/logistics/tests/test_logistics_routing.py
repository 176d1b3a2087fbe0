"""Routing: the solver's plans respect capacity and windows, bad problems are refused, infeasibility is explained."""

from __future__ import annotations

import pytest

from lepton_core.errors import DataError
from lepton_logistics.routing.greedy import nearest_neighbour_plan
from lepton_logistics.routing.plan import Costs, replay
from lepton_logistics.routing.planner import RoutingSettings, plan_routes
from lepton_logistics.routing.predictor import RoutingPlan, RoutingPredictor
from lepton_logistics.routing.problem import generate_problem, parse_problem
from lepton_logistics.routing.travel import matrices_from_speed

SETTINGS = RoutingSettings(time_limit_s=1.0)


def small_problem(**changes: object) -> dict:
    problem = generate_problem(n_orders=12, n_vehicles=3, vehicle_capacity=30, seed=3).model_dump()
    problem.update(changes)
    return problem


def test_solver_serves_every_order_within_capacity_and_windows() -> None:
    problem = parse_problem(small_problem(), "test")
    result = plan_routes(problem, SETTINGS)
    assert result["feasible"] and not result["dropped"] and not result["infeasibility"]
    assert result["kpis"]["on_time_share"] == 1.0
    assert all(not r["over_capacity"] and not r["returns_after_close"] for r in result["routes"])
    served = sorted(s["order"] for r in result["routes"] for s in r["stops"])
    assert served == sorted(o.id for o in problem.orders)


def test_solver_beats_or_matches_the_nearest_neighbour_baseline() -> None:
    problem = parse_problem(small_problem(), "test")
    travel = matrices_from_speed(problem, 25.0, 1.3)
    solver = plan_routes(problem, SETTINGS, travel)
    greedy = replay(problem, travel, nearest_neighbour_plan(problem, travel), Costs())
    assert solver["kpis"]["plan_cost"] <= greedy["kpis"]["plan_cost"] + 1e-6
    assert all(s["on_time"] for r in greedy["routes"] for s in r["stops"])
    assert all(not r["over_capacity"] for r in greedy["routes"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p["orders"][2].update(lat=123.0), "orders.2.lat: latitude 123 is outside [-90, 90]"),
        (lambda p: p["orders"][1].update(lon=-200.0), "orders.1.lon: longitude -200 is outside [-180, 180]"),
        (lambda p: p["orders"][0].update(demand=-2.0), "orders.0.demand: must not be negative (got -2)"),
        (lambda p: p["orders"][4].update(window_start_min=90.0, window_end_min=30.0),
         "orders.4: time window closes (30 min) before it opens (90 min)"),
        (lambda p: p["vehicles"][0].update(capacity=0.0), "vehicles.0.capacity: must be positive (got 0)"),
        (lambda p: p["orders"][3].update(id=p["orders"][0]["id"]), "duplicate order id(s): c001"),
        (lambda p: p["depot"].update(open_min=500.0, close_min=100.0), "depot closes (100 min) before it opens"),
    ],
)
def test_bad_problems_raise_a_data_error_naming_the_field(change, message: str) -> None:
    raw = small_problem()
    change(raw)
    with pytest.raises(DataError) as error:
        parse_problem(raw, "problem.json")
    assert message in str(error.value)


def test_more_demand_than_the_fleet_carries_is_explained_not_silent() -> None:
    raw = small_problem(vehicles=[{"id": "v1", "capacity": 10.0}])
    result = plan_routes(parse_problem(raw, "test"), SETTINGS)
    assert not result["feasible"]
    assert result["routes"], "a partial plan is still returned"
    kinds = {c["constraint"] for c in result["infeasibility"]}
    assert "fleet_capacity" in kinds
    fleet = next(c for c in result["infeasibility"] if c["constraint"] == "fleet_capacity")
    assert "the 1 vehicles carry 10 in total" in fleet["detail"]
    dropped = {d["order"] for d in result["dropped"]}
    named = {o for c in result["infeasibility"] for o in c["orders"]}
    assert dropped <= named
    assert result["kpis"]["drop_penalty"] == SETTINGS.drop_penalty_km * len(dropped)


def test_unreachable_window_and_oversized_order_are_named() -> None:
    raw = small_problem()
    raw["orders"][0].update(window_start_min=0.0, window_end_min=1.0)
    raw["orders"][1].update(demand=99.0)
    result = plan_routes(parse_problem(raw, "test"), SETTINGS)
    causes = {c["constraint"]: c for c in result["infeasibility"]}
    assert causes["time_window"]["orders"] == [raw["orders"][0]["id"]]
    assert causes["vehicle_capacity"]["orders"] == [raw["orders"][1]["id"]]
    assert {d["order"] for d in result["dropped"]} == {raw["orders"][0]["id"], raw["orders"][1]["id"]}


def test_predictor_answers_with_the_output_schema_and_refuses_bad_items() -> None:
    predictor = RoutingPredictor(SETTINGS)
    [plan] = predictor.predict([small_problem(time_limit_s=0.5)])
    RoutingPlan.model_validate(plan)
    bad = small_problem()
    bad["orders"][0]["lat"] = 95.0
    with pytest.raises(DataError, match="latitude 95 is outside"):
        predictor.predict([bad])


def test_order_table_plus_fleet_config_makes_a_problem(tmp_path) -> None:
    import pandas as pd

    from lepton_logistics.routing.problem import read_problem

    orders = pd.DataFrame([o.model_dump() for o in generate_problem(n_orders=5, seed=0).orders])
    orders.to_csv(tmp_path / "orders.csv", index=False)
    fleet = {"n_vehicles": 2, "vehicle_capacity": 20.0, "depot_lat": 52.5, "depot_lon": 13.4,
             "depot_open_min": 0.0, "depot_close_min": 600.0}
    problem = read_problem(tmp_path / "orders.csv", fleet)
    assert len(problem.orders) == 5 and [v.capacity for v in problem.vehicles] == [20.0, 20.0]
    with pytest.raises(DataError, match="order table without a depot"):
        read_problem(tmp_path / "orders.csv", {**fleet, "depot_lat": None})
