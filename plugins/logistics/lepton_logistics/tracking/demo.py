"""Generated parcel orders with timestamped status events (deterministic), for the order_tracking demo.

Each order goes created -> picked -> packed -> dispatched -> arrived_at_hub -> out_for_delivery -> delivered,
with what makes the remaining time predictable and uneven: the warehouse picks from 06:00 to 22:00 only;
linehaul trucks leave each origin hub at fixed hours (economy only on the night truck); linehaul time grows
with distance and some trips are ``delayed``; destination hubs sort at their own speed before the morning
delivery round (express also rides a midday round; no standard or economy rounds on Sundays); a
``failed_attempt`` sends the parcel out again on the next round.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HUBS = tuple(f"HUB-{c}" for c in "ABCDEFGH")
SERVICES = ("express", "standard", "economy")
START = pd.Timestamp("2025-03-03")  # a Monday


def _next_hour(t: float, hours: tuple[float, ...], skip_sunday: bool = False) -> float:
    """The first time at or after ``t`` (hours since START) whose hour of day is one of ``hours``."""
    day = np.floor(t / 24.0)
    while True:
        for hour in hours:
            candidate = day * 24.0 + hour
            if candidate >= t and not (skip_sunday and int(day) % 7 == 6):
                return candidate
        day += 1


def _order_events(rng: np.random.Generator, created: float, service: str, origin: int, destination: int,
                  distance: float, weight: float, trucks: list[tuple[float, ...]], sorting: np.ndarray) -> list[tuple[float, str]]:
    """(hours since START, status) of one order, in time order."""
    speed = {"express": 0.5, "standard": 1.0, "economy": 1.6}[service]
    events = [(created, "created")]
    hour = created % 24.0
    start = created if 6.0 <= hour < 22.0 else _next_hour(created, (6.0,))
    picked = start + rng.lognormal(np.log(1.2 * speed), 0.5)
    events.append((picked, "picked"))
    packed = picked + rng.lognormal(np.log(0.3 * (1.0 + weight / 8.0)), 0.4)
    events.append((packed, "packed"))
    departures = (trucks[origin][-1],) if service == "economy" else trucks[origin]
    dispatched = _next_hour(packed + 0.5, departures)
    events.append((dispatched, "dispatched"))
    linehaul = (1.0 + distance / 65.0) * rng.lognormal(0.0, 0.15)
    if rng.random() < 0.05 + 0.1 * min(distance / 900.0, 1.0):
        events.append((dispatched + linehaul * rng.uniform(0.3, 0.8), "delayed"))
        linehaul += rng.exponential(8.0) + 2.0
    arrived = dispatched + linehaul
    events.append((arrived, "arrived_at_hub"))
    ready = arrived + sorting[destination] * rng.lognormal(0.0, 0.3)
    rounds = (8.0, 13.0) if service == "express" else (8.0,)
    out = _next_hour(ready, rounds, skip_sunday=service != "express")
    events.append((out, "out_for_delivery"))
    fail_p = {"express": 0.04, "standard": 0.07, "economy": 0.11}[service]
    while rng.random() < fail_p:
        failed = out + rng.uniform(0.5, 4.0)
        events.append((failed, "failed_attempt"))
        out = _next_hour(failed + 12.0, (8.0,), skip_sunday=True)
        events.append((out, "out_for_delivery"))
    events.append((out + min(rng.lognormal(np.log(2.0), 0.6), 9.0), "delivered"))
    return events


def generate_order_events(n_orders: int = 3000, seed: int = 0, n_days: int = 90) -> pd.DataFrame:
    """The order_tracking demo: one row per status event (order_id, timestamp, status + order attributes)."""
    rng = np.random.default_rng(seed)
    trucks = [tuple(sorted(rng.choice([6.0, 10.0, 14.0, 18.0, 22.0], size=2 + h % 2, replace=False))) for h in range(len(HUBS))]
    sorting = rng.uniform(1.0, 7.0, len(HUBS))
    hour_weights = 0.3 + np.exp(-((np.arange(24) - 11.0) ** 2) / 10.0) + 0.8 * np.exp(-((np.arange(24) - 20.0) ** 2) / 6.0)
    rows = []
    for i in range(n_orders):
        created = rng.integers(0, n_days) * 24.0 + rng.choice(24, p=hour_weights / hour_weights.sum()) + rng.random()
        service = str(rng.choice(SERVICES, p=(0.2, 0.6, 0.2)))
        origin, destination = rng.integers(0, len(HUBS), 2)
        distance = float(np.clip(rng.lognormal(np.log(300.0), 0.7), 20.0, 1500.0))
        weight = float(np.clip(rng.lognormal(np.log(2.0), 0.8), 0.1, 40.0))
        attributes = {"service_level": service, "origin_hub": HUBS[origin], "destination_hub": HUBS[destination],
                      "distance_km": round(distance, 1), "weight_kg": round(weight, 2)}
        for t, status in _order_events(rng, created, service, origin, destination, distance, weight, trucks, sorting):
            rows.append({"order_id": f"ord{i:05d}", "hours": t, "status": status, **attributes})
    frame = pd.DataFrame(rows)
    stamps = START + pd.to_timedelta(frame.pop("hours").round(4), unit="h")
    frame.insert(1, "timestamp", stamps.dt.strftime("%Y-%m-%d %H:%M:%S"))
    order = np.argsort(stamps.to_numpy(), kind="stable")  # a tracking feed: orders interleaved in time
    return frame.iloc[order].reset_index(drop=True)
