"""The route_optimization datamodule: one routing problem, generated or read from a file. Nothing to train."""

from __future__ import annotations

from typing import Any

import lightning as L

from lepton_logistics.routing.problem import RoutingProblem, generate_problem, read_problem


class RoutingDataModule(L.LightningDataModule):
    """Holds the problem to plan: ``path`` (JSON problem, or CSV/Parquet orders plus the fleet below) or a demo."""

    def __init__(
        self,
        path: str | None = None,
        n_orders: int = 60,
        n_vehicles: int = 6,
        vehicle_capacity: float = 50.0,
        radius_km: float = 8.0,
        depot_lat: float | None = None,
        depot_lon: float | None = None,
        depot_open_min: float = 0.0,
        depot_close_min: float = 660.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.path = path
        self.fleet = {
            "n_vehicles": n_vehicles, "vehicle_capacity": vehicle_capacity, "depot_lat": depot_lat,
            "depot_lon": depot_lon, "depot_open_min": depot_open_min, "depot_close_min": depot_close_min,
        }
        self.n_orders, self.radius_km, self.seed = n_orders, radius_km, seed
        self.problem: RoutingProblem | None = None

    def setup(self, stage: str | None = None) -> None:
        """Read and validate the problem (bad coordinates, demands or windows raise DataError)."""
        if self.problem is not None:
            return
        if self.path is not None:
            self.problem = read_problem(self.path, self.fleet)
            return
        lat = 52.52 if self.fleet["depot_lat"] is None else self.fleet["depot_lat"]
        lon = 13.405 if self.fleet["depot_lon"] is None else self.fleet["depot_lon"]
        self.problem = generate_problem(
            self.n_orders, int(self.fleet["n_vehicles"]), float(self.fleet["vehicle_capacity"]), self.radius_km,
            self.seed, lat, lon,
        )

    def summary(self) -> dict[str, Any]:
        """Problem size for the report."""
        assert self.problem is not None
        return {
            "orders": len(self.problem.orders),
            "vehicles": len(self.problem.vehicles),
            "total demand": self.problem.total_demand,
            "fleet capacity": self.problem.total_capacity,
            "depot hours (min)": f"{self.problem.depot.open_min:g}-{self.problem.depot.close_min:g}",
        }

    def input_example(self) -> list[dict[str, Any]]:
        """A small made-up problem (6 generated orders around the problem's depot, 2 vehicles of its fleet, 1 s
        time limit) for the bundle's smoke test: no order of the data."""
        assert self.problem is not None
        depot = self.problem.depot
        capacity = float(self.problem.vehicles[0].capacity) if self.problem.vehicles else 50.0
        example = generate_problem(6, 2, capacity, self.radius_km, self.seed, depot.lat, depot.lon).model_dump(
            exclude_none=True
        )
        example["time_limit_s"] = 1.0
        return [example]
