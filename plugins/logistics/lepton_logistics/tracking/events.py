"""Order status events: the known statuses, their lifecycle order, and the checked events table of a run.

An order's events, sorted by time, must start with ``created``; the milestones (created, picked, packed,
dispatched, arrived_at_hub, out_for_delivery, delivered) never go back (a milestone may repeat: several hubs,
a new delivery round after a failed attempt); the exceptions (failed_attempt, delayed) may come anywhere
after ``created``; nothing follows ``delivered``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lepton_core.errors import DataError

MILESTONES = ("created", "picked", "packed", "dispatched", "arrived_at_hub", "out_for_delivery", "delivered")
EXCEPTIONS = ("failed_attempt", "delayed")
STATUSES = (*MILESTONES, *EXCEPTIONS)
STATUS_INDEX = {s: i + 1 for i, s in enumerate(STATUSES)}  # 0 pads a sequence
DELIVERED = "delivered"
ALLOWED = ", ".join(STATUSES)


def normalise_status(value: object) -> str:
    """``" Out for delivery"`` -> ``"out_for_delivery"`` (case, spaces and hyphens do not matter)."""
    return "_".join(str(value).strip().lower().replace("-", " ").split())


def lifecycle_problem(statuses: Sequence[str]) -> str | None:
    """Why a time-sorted status sequence is not a possible order history, or None when it is."""
    if not statuses:
        return "has no events"
    if statuses[0] != "created":
        return f"starts with '{statuses[0]}', not 'created'"
    rank = 0
    for position, status in enumerate(statuses):
        if status == DELIVERED and position != len(statuses) - 1:
            return f"has '{statuses[position + 1]}' after 'delivered'"
        if status in EXCEPTIONS:
            continue
        now = MILESTONES.index(status)
        if now < rank:
            return f"has '{status}' after '{MILESTONES[rank]}' (events out of order)"
        rank = now
    return None


def parse_stamps(values: pd.Series, name: str, orders: pd.Series | None = None) -> pd.Series:
    """Naive datetimes (offsets converted to UTC); a missing or unparseable value raises DataError naming it."""
    text = values.astype(str).str.strip()
    stamps = pd.to_datetime(values.where(values.notna() & (text != "")), errors="coerce", format="mixed", utc=True)
    bad = stamps.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        where = f" (order '{orders.iloc[first]}')" if orders is not None else ""
        shown = values.iloc[first]
        raise DataError(
            f"{int(bad.sum())} value(s) of time column '{name}' are not timestamps, like {shown!r}{where}",
            "use ISO timestamps such as 2025-03-04 14:30 (offsets like +01:00 are converted to UTC)",
        )
    return stamps.dt.tz_localize(None)


@dataclass
class OrderEvents:
    """Checked events, sorted by order then time: per order its first row, event count and whether it is delivered."""

    events: pd.DataFrame  # order, stamp (datetime64), status (text), code (STATUS_INDEX)
    orders: pd.DataFrame  # one row per order: order, created, n_events, delivered, + order columns
    order_columns: list[str]

    @property
    def completed(self) -> pd.DataFrame:
        """Orders whose last event is ``delivered``."""
        return self.orders[self.orders["delivered"]]


def check_events(
    frame: pd.DataFrame, order_column: str, time_column: str, status_column: str,
    order_columns: Sequence[str] | None = None, invalid_orders: str = "error",
) -> tuple[OrderEvents, int]:
    """Validate an events table; ``(events, orders dropped)``. Every problem is a one-line DataError."""
    if len(frame) == 0:
        raise DataError("the events table has no rows", "give one row per status event: order id, timestamp, status")
    needed = {"order": order_column, "time": time_column, "status": status_column}
    absent = [f"{kind} column '{name}'" for kind, name in needed.items() if name not in frame.columns]
    if absent:
        raise DataError(
            f"the events table has no {', no '.join(absent)} (columns: {', '.join(map(str, frame.columns[:12]))})",
            "rename the columns, or set data.order_column / data.time_column / data.status_column",
        )
    if invalid_orders not in ("error", "drop"):
        raise DataError(f"data.invalid_orders={invalid_orders} is not error or drop", "set data.invalid_orders=error or drop")
    if frame[order_column].isna().any():
        raise DataError(f"{int(frame[order_column].isna().sum())} event(s) have no order id", f"fill column '{order_column}'")
    orders = frame[order_column].astype(str)
    stamps = parse_stamps(frame[time_column], time_column, orders)
    status = frame[status_column].map(normalise_status)
    unknown = ~status.isin(STATUSES)
    if unknown.any():
        first = int(np.flatnonzero(unknown.to_numpy())[0])
        names = sorted(set(status[unknown]))[:5]
        raise DataError(
            f"{int(unknown.sum())} event(s) have an unknown status ({', '.join(repr(n) for n in names)}; "
            f"e.g. order '{orders.iloc[first]}'); allowed: {ALLOWED}",
            "map your status names to these (case, spaces and hyphens do not matter)",
        )
    extra = [str(c) for c in frame.columns if c not in needed.values()]
    columns = extra if order_columns is None else [str(c) for c in order_columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"order column(s) {', '.join(missing)} not in the events table", "fix data.order_features")
    events = pd.DataFrame({"order": orders.to_numpy(), "stamp": stamps.to_numpy(), "status": status.to_numpy(),
                           "row": np.arange(len(frame))})
    events = events.sort_values(["order", "stamp", "row"], kind="stable").reset_index(drop=True)
    problems = {order: problem for order, group in events.groupby("order", sort=False)
                if (problem := lifecycle_problem(group["status"].tolist()))}
    if problems and invalid_orders == "error":
        order, problem = next(iter(problems.items()))
        raise DataError(
            f"{len(problems)} order(s) have impossible event sequences, e.g. order '{order}' {problem}",
            "fix those orders' timestamps or statuses, or set data.invalid_orders=drop",
        )
    if problems:
        events = events[~events["order"].isin(problems)].reset_index(drop=True)
        if events.empty:
            raise DataError("every order has an impossible event sequence", "fix the timestamps or statuses")
    events["code"] = events["status"].map(STATUS_INDEX).astype(np.int64)
    attributes = frame[columns].assign(order=orders).groupby("order", sort=False).first()
    grouped = events.groupby("order", sort=True)
    summary = pd.DataFrame({
        "created": grouped["stamp"].first(), "n_events": grouped.size(),
        "delivered": grouped["status"].last() == DELIVERED,
    })
    summary = summary.join(attributes, how="left").reset_index()
    return OrderEvents(events.drop(columns="row"), summary, columns), len(problems)
