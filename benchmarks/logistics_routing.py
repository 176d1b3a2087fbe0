"""Route planning: OR-Tools (guided local search under a time limit) vs the nearest-neighbour baseline.

For generated problems of growing size, prints plan cost (km + drop penalties), vehicles used and dropped
orders for both, and the solver/baseline cost ratio (lower is better for the solver).

    .venv/bin/python benchmarks/logistics_routing.py [--sizes 20 50 100] [--time-limit 5] [--quick]
"""

from __future__ import annotations

import argparse

from lepton_logistics.routing.planner import RoutingSettings, plan_routes
from lepton_logistics.routing.problem import generate_problem
from lepton_logistics.routing.travel import matrices_from_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="sizes 20 and 50, 1 s limit")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes, limit = ([20, 50], 1.0) if args.quick else (args.sizes, args.time_limit)
    settings = RoutingSettings(time_limit_s=limit)
    print(f"{'orders':>7}{'vehicles':>9}{'solver cost':>12}{'NN cost':>9}{'ratio':>7}{'solver veh':>11}"
          f"{'NN veh':>7}{'solver drop':>12}{'NN drop':>8}{'solve s':>8}")
    for n in sizes:
        vehicles = max(2, n // 8)
        problem = generate_problem(n_orders=n, n_vehicles=vehicles, vehicle_capacity=45.0, seed=args.seed)
        travel = matrices_from_speed(problem, settings.speed_kmh, settings.road_factor)
        solver = plan_routes(problem, settings, travel, "ortools")["kpis"]
        greedy = plan_routes(problem, settings, travel, "nearest_neighbour")["kpis"]
        print(f"{n:>7}{vehicles:>9}{solver['plan_cost']:>12.1f}{greedy['plan_cost']:>9.1f}"
              f"{solver['plan_cost'] / greedy['plan_cost']:>7.2f}{solver['vehicles_used']:>11.0f}"
              f"{greedy['vehicles_used']:>7.0f}{solver['dropped_orders']:>12.0f}{greedy['dropped_orders']:>8.0f}"
              f"{solver['solve_time_s']:>8.1f}")


if __name__ == "__main__":
    main()
