"""A routing problem (depot, orders, vehicles): its schema, checks, demo generator and file reader.

Times are minutes from the start of the planning day; demands and capacities share one unit (parcels, kg...).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lepton_core.errors import DataError


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _latitude(value: float) -> float:
    if not -90.0 <= _finite(value) <= 90.0:
        raise ValueError(f"latitude {value:g} is outside [-90, 90]")
    return value


def _longitude(value: float) -> float:
    if not -180.0 <= _finite(value) <= 180.0:
        raise ValueError(f"longitude {value:g} is outside [-180, 180]")
    return value


class Depot(BaseModel):
    """Where every vehicle starts and ends, with its opening hours."""

    model_config = ConfigDict(extra="forbid")
    lat: float
    lon: float
    open_min: float = 0.0
    close_min: float = 600.0

    _lat = field_validator("lat")(_latitude)
    _lon = field_validator("lon")(_longitude)

    @model_validator(mode="after")
    def _hours(self) -> Depot:
        if self.close_min <= self.open_min:
            raise ValueError(f"depot closes ({self.close_min:g} min) before it opens ({self.open_min:g} min)")
        return self


class Order(BaseModel):
    """One delivery: location, demand, time window and service time."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    lat: float
    lon: float
    demand: float = 1.0
    window_start_min: float = 0.0
    window_end_min: float = 1440.0
    service_min: float = 5.0

    _lat = field_validator("lat")(_latitude)
    _lon = field_validator("lon")(_longitude)

    @field_validator("demand", "service_min")
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if _finite(value) < 0:
            raise ValueError(f"must not be negative (got {value:g})")
        return value

    @model_validator(mode="after")
    def _window(self) -> Order:
        if self.window_end_min < self.window_start_min:
            raise ValueError(
                f"time window closes ({self.window_end_min:g} min) before it opens ({self.window_start_min:g} min)"
            )
        return self


class Vehicle(BaseModel):
    """One vehicle of the fleet and what it can carry."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    capacity: float

    @field_validator("capacity")
    @classmethod
    def _positive(cls, value: float) -> float:
        if _finite(value) <= 0:
            raise ValueError(f"must be positive (got {value:g})")
        return value


class RoutingProblem(BaseModel):
    """Orders and vehicles to plan; ``speed_kmh`` and ``time_limit_s`` override the bundle's defaults."""

    model_config = ConfigDict(extra="forbid")
    depot: Depot
    orders: list[Order] = Field(min_length=1)
    vehicles: list[Vehicle] = Field(min_length=1)
    speed_kmh: float | None = Field(default=None, gt=0, le=200)
    time_limit_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _unique_ids(self) -> RoutingProblem:
        for kind, ids in (("order", [o.id for o in self.orders]), ("vehicle", [v.id for v in self.vehicles])):
            seen: set[str] = set()
            duplicates = sorted({i for i in ids if i in seen or seen.add(i)})
            if duplicates:
                raise ValueError(f"duplicate {kind} id(s): {', '.join(duplicates[:5])}")
        return self

    @property
    def total_demand(self) -> float:
        """Sum of all order demands."""
        return float(sum(o.demand for o in self.orders))

    @property
    def total_capacity(self) -> float:
        """Sum of all vehicle capacities."""
        return float(sum(v.capacity for v in self.vehicles))


def parse_problem(raw: Any, source: str) -> RoutingProblem:
    """Validate a decoded problem; a bad field raises DataError naming its location."""
    try:
        return RoutingProblem.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "problem"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise DataError(
            f"{source}: {where}: {message}",
            "fix the routing problem (see docs/verticals/logistics.md for the format)",
        ) from None


def generate_problem(
    n_orders: int = 60,
    n_vehicles: int = 6,
    vehicle_capacity: float = 50.0,
    radius_km: float = 8.0,
    seed: int = 0,
    depot_lat: float = 52.52,
    depot_lon: float = 13.405,
) -> RoutingProblem:
    """A deterministic demo: a depot with customers around it, integer demands and 1-3 hour windows."""
    rng = np.random.default_rng(seed)
    distance = radius_km * np.sqrt(rng.uniform(0.02, 1.0, n_orders))
    angle = rng.uniform(0, 2 * np.pi, n_orders)
    lat = depot_lat + distance * np.cos(angle) / 111.32
    lon = depot_lon + distance * np.sin(angle) / (111.32 * np.cos(np.radians(depot_lat)))
    demand = rng.integers(1, 10, n_orders)
    start = rng.choice(np.arange(30, 451, 30), n_orders)
    width = rng.choice([60, 90, 120, 180], n_orders)
    orders = [
        Order(
            id=f"c{i + 1:03d}",
            lat=round(float(lat[i]), 6),
            lon=round(float(lon[i]), 6),
            demand=float(demand[i]),
            window_start_min=float(start[i]),
            window_end_min=float(start[i] + width[i]),
            service_min=5.0,
        )
        for i in range(n_orders)
    ]
    vehicles = [Vehicle(id=f"v{k + 1}", capacity=vehicle_capacity) for k in range(n_vehicles)]
    return RoutingProblem(depot=Depot(lat=depot_lat, lon=depot_lon, open_min=0, close_min=660), orders=orders, vehicles=vehicles)


def _orders_from_table(path: Path, fleet: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    missing = [c for c in ("id", "lat", "lon") if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {', '.join(missing)}", "give each order an id, lat and lon")
    known = [c for c in Order.model_fields if c in frame.columns]
    records = frame[known].astype({"id": str}).to_dict(orient="records")
    if fleet.get("depot_lat") is None or fleet.get("depot_lon") is None:
        raise DataError(f"{path} is an order table without a depot", "set data.depot_lat and data.depot_lon")
    return {
        "depot": {"lat": fleet["depot_lat"], "lon": fleet["depot_lon"], "open_min": fleet["depot_open_min"],
                  "close_min": fleet["depot_close_min"]},
        "orders": records,
        "vehicles": [{"id": f"v{k + 1}", "capacity": fleet["vehicle_capacity"]} for k in range(int(fleet["n_vehicles"]))],
    }


def read_problem(path: str | Path, fleet: dict[str, Any]) -> RoutingProblem:
    """Read a problem from JSON (depot, orders, vehicles) or an order table (CSV/Parquet) plus the fleet config."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"routing problem file not found: {file}", "check data.path")
    if file.suffix.lower() == ".json":
        try:
            raw = json.loads(file.read_text("utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{file} is not valid JSON ({exc.msg} at line {exc.lineno})", "fix the file") from None
    elif file.suffix.lower() in (".csv", ".parquet"):
        raw = _orders_from_table(file, fleet)
    else:
        raise DataError(f"{file}: unsupported routing file type '{file.suffix}'", "use .json, .csv or .parquet")
    return parse_problem(raw, str(file))
