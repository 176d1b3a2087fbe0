"""Travel distances and times between the depot (node 0) and the orders (nodes 1..n)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_core.errors import ConfigError
from lepton_logistics.geo import haversine_km
from lepton_logistics.routing.problem import RoutingProblem


@dataclass(frozen=True)
class TravelMatrices:
    """Road distance (km) and driving time (min) for every ordered pair of nodes; node 0 is the depot."""

    distance_km: np.ndarray
    time_min: np.ndarray
    source: str


def node_coordinates(problem: RoutingProblem) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes of the depot followed by the orders."""
    lat = np.array([problem.depot.lat, *(o.lat for o in problem.orders)], dtype=float)
    lon = np.array([problem.depot.lon, *(o.lon for o in problem.orders)], dtype=float)
    return lat, lon


def road_distances(problem: RoutingProblem, road_factor: float) -> np.ndarray:
    """Great-circle distances times a detour factor (roads are not straight lines)."""
    lat, lon = node_coordinates(problem)
    return haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * road_factor


def matrices_from_speed(problem: RoutingProblem, speed_kmh: float, road_factor: float) -> TravelMatrices:
    """Driving times from road distances at a constant speed."""
    if speed_kmh <= 0 or road_factor < 1:
        raise ConfigError(f"speed_kmh={speed_kmh} / road_factor={road_factor} are invalid", "use speed > 0, factor >= 1")
    distance = road_distances(problem, road_factor)
    return TravelMatrices(distance, distance / speed_kmh * 60.0, f"distance matrix at {speed_kmh:g} km/h")


def matrices_from_eta(problem: RoutingProblem, eta_predictor: Any, eta_state: dict[str, Any], road_factor: float,
                      departure_hour: int, weekday: int) -> TravelMatrices:
    """Driving times predicted (P50) by a trained eta bundle for every pair of nodes."""
    from lepton_logistics.eta.travel_rows import pair_rows

    distance = road_distances(problem, road_factor)
    lat, lon = node_coordinates(problem)
    n = len(lat)
    origin, destination = np.nonzero(~np.eye(n, dtype=bool))
    rows = pair_rows(eta_state, lat[origin], lon[origin], lat[destination], lon[destination],
                     distance[origin, destination], departure_hour, weekday)
    predictions = eta_predictor.predict(rows)
    minutes = np.zeros((n, n))
    minutes[origin, destination] = [max(float(p["p50"]), 0.0) for p in predictions]
    return TravelMatrices(distance, minutes, "eta bundle (P50)")
