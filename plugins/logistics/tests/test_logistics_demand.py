"""Hub volume demo: long format, weekly seasonality, holidays and peak season visible in the data."""

from __future__ import annotations

from lepton_logistics.demand.demo import make_hub_volumes


def test_hub_volumes_have_the_long_format_and_calendar_effects() -> None:
    frame = make_hub_volumes(n_hubs=4, n_days=400, seed=1)
    assert list(frame.columns) == ["unique_id", "ds", "y", "holiday", "peak_season"]
    assert frame["unique_id"].nunique() == 4
    assert not frame.duplicated(["unique_id", "ds"]).any()
    assert (frame["y"] >= 0).all()
    weekday = frame.groupby(frame["ds"].dt.dayofweek)["y"].mean()
    assert weekday[0] > 2 * weekday[6]
    holiday = frame[frame["holiday"] == 1]
    assert holiday["y"].mean() < 0.3 * frame[frame["ds"].dt.dayofweek < 5]["y"].mean()
    assert frame.loc[frame["peak_season"] > 0.5, "y"].mean() > frame["y"].mean()


def test_one_hub_opens_later() -> None:
    frame = make_hub_volumes(n_hubs=4, n_days=300, seed=0)
    counts = frame.groupby("unique_id").size()
    assert counts.min() == 200 and counts.max() == 300


def test_generation_is_deterministic() -> None:
    assert make_hub_volumes(n_hubs=2, n_days=100, seed=5).equals(make_hub_volumes(n_hubs=2, n_days=100, seed=5))
