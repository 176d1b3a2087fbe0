"""Generated delivery tables (deterministic): the eta demo, and a harder city table with coordinates and timestamps.

Delivery time = handling (items) + distance / effective speed, where the speed depends on rush hour, weekday,
weather, the courier (and vehicle in the city table), times a right-skewed noise with occasional long delays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEATHER = ("clear", "rain", "snow", "fog")
WEATHER_P = (0.62, 0.24, 0.07, 0.07)
WEATHER_SPEED = {"clear": 1.0, "rain": 0.82, "snow": 0.6, "fog": 0.86}


def _rush(hour: np.ndarray, weekday: np.ndarray) -> np.ndarray:
    """Speed factor: slow in weekday rush hours, faster late at night and on weekends."""
    morning = np.exp(-((hour - 8.5) ** 2) / 1.5)
    evening = np.exp(-((hour - 18.0) ** 2) / 2.0)
    weekend = weekday >= 5
    factor = 1.0 - np.where(weekend, 0.1, 0.38) * np.maximum(morning, evening)
    return factor * np.where(hour >= 21, 1.15, 1.0) * np.where(weekend, 1.08, 1.0)


def _noise(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative log-normal noise and additive occasional delays (minutes)."""
    multiplier = rng.lognormal(0.0, 0.14, n)
    delay = np.where(rng.random(n) < 0.06, rng.exponential(14.0, n), 0.0)
    return multiplier, delay


def generate_deliveries(n_rows: int = 8000, seed: int = 0, n_couriers: int = 40) -> pd.DataFrame:
    """The eta demo: distance_km, hour, weekday, weather, courier, items -> delivery_minutes."""
    rng = np.random.default_rng(seed)
    distance = np.clip(rng.lognormal(np.log(3.2), 0.6, n_rows), 0.3, 25.0)
    hour = rng.choice(np.arange(7, 23), n_rows, p=_hour_profile(np.arange(7, 23)))
    weekday = rng.integers(0, 7, n_rows)
    weather = rng.choice(WEATHER, n_rows, p=WEATHER_P)
    courier_speed = rng.uniform(0.75, 1.25, n_couriers)
    courier = rng.integers(0, n_couriers, n_rows)
    items = rng.poisson(2.5, n_rows) + 1
    speed = 24.0 * _rush(hour, weekday) * np.vectorize(WEATHER_SPEED.get)(weather) * courier_speed[courier]
    multiplier, delay = _noise(rng, n_rows)
    minutes = (4.0 + 1.1 * items + distance / speed * 60.0) * multiplier + delay
    return pd.DataFrame({
        "distance_km": distance.round(2),
        "hour": hour,
        "weekday": weekday,
        "weather": weather,
        "courier": [f"courier_{c:02d}" for c in courier],
        "items": items,
        "delivery_minutes": minutes.round(1),
    })


def _hour_profile(hours: np.ndarray) -> np.ndarray:
    weights = 0.4 + np.exp(-((hours - 12.5) ** 2) / 3.0) + 1.2 * np.exp(-((hours - 19.0) ** 2) / 4.0)
    return weights / weights.sum()


def generate_city_deliveries(n_rows: int = 10000, seed: int = 0) -> pd.DataFrame:
    """A harder, real-looking table: coordinates, an order timestamp, 300 couriers, vehicle types, gaps."""
    rng = np.random.default_rng(seed + 1)
    center_lat, center_lon = 48.137, 11.575
    hubs = np.column_stack([center_lat + rng.normal(0, 0.03, 12), center_lon + rng.normal(0, 0.045, 12)])
    hub = rng.integers(0, len(hubs), n_rows)
    radius = np.clip(rng.lognormal(np.log(2.8), 0.6, n_rows), 0.2, 20.0)
    angle = rng.uniform(0, 2 * np.pi, n_rows)
    pickup_lat, pickup_lon = hubs[hub, 0], hubs[hub, 1]
    dropoff_lat = pickup_lat + radius * np.cos(angle) / 111.32
    dropoff_lon = pickup_lon + radius * np.sin(angle) / (111.32 * np.cos(np.radians(center_lat)))
    start = pd.Timestamp("2024-03-01")
    day = rng.integers(0, 120, n_rows)
    hour = rng.choice(np.arange(7, 23), n_rows, p=_hour_profile(np.arange(7, 23)))
    minute = rng.integers(0, 60, n_rows)
    stamps = start + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(minute, unit="m")
    weekday = stamps.dayofweek.to_numpy()
    weather = rng.choice(WEATHER, n_rows, p=WEATHER_P)
    vehicle = rng.choice(["bike", "e-bike", "scooter", "car"], n_rows, p=(0.35, 0.3, 0.2, 0.15))
    vehicle_speed = pd.Series(vehicle).map({"bike": 0.85, "e-bike": 1.0, "scooter": 1.15, "car": 1.05}).to_numpy()
    car_in_rush = np.where(vehicle == "car", _rush(hour, weekday), 1.0)
    courier_speed = rng.uniform(0.7, 1.3, 300)
    courier = rng.integers(0, 300, n_rows)
    items = rng.poisson(2.0, n_rows) + 1
    weight = np.round(items * rng.uniform(0.3, 2.5, n_rows), 2)
    merchant = rng.choice(["restaurant", "grocery", "pharmacy", "retail"], n_rows, p=(0.5, 0.3, 0.08, 0.12))
    prep = pd.Series(merchant).map({"restaurant": 11.0, "grocery": 7.0, "pharmacy": 4.0, "retail": 5.0}).to_numpy()
    road = radius * (1.25 + 0.15 * np.abs(np.sin(2 * angle)))
    speed = (20.0 * _rush(hour, weekday) * car_in_rush * np.vectorize(WEATHER_SPEED.get)(weather)
             * vehicle_speed * courier_speed[courier])
    multiplier, delay = _noise(rng, n_rows)
    minutes = (prep + 0.8 * items + 0.3 * weight + road / speed * 60.0) * multiplier + delay
    frame = pd.DataFrame({
        "order_id": [f"o{i:06d}" for i in range(n_rows)],
        "order_time": stamps.strftime("%Y-%m-%d %H:%M"),
        "pickup_lat": pickup_lat.round(5), "pickup_lon": pickup_lon.round(5),
        "dropoff_lat": dropoff_lat.round(5), "dropoff_lon": dropoff_lon.round(5),
        "weather": weather, "vehicle_type": vehicle, "courier_id": [f"k{c:03d}" for c in courier],
        "merchant_type": merchant, "items": items, "weight_kg": weight,
        "order_value": np.round(rng.lognormal(np.log(28), 0.5, n_rows), 2),
        "delivery_minutes": minutes.round(1),
    })
    for column, share in (("weather", 0.05), ("weight_kg", 0.08), ("vehicle_type", 0.02)):
        frame.loc[rng.random(n_rows) < share, column] = None
    return frame
