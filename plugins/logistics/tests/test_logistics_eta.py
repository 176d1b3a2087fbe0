"""eta: geo/time feature derivation, coordinate checks, the datamodule's raw input rows, baselines and notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import DataError
from lepton_logistics.eta.baselines import GradientBoostingBaseline, LinearDistanceBaseline
from lepton_logistics.eta.data import EtaDataModule
from lepton_logistics.eta.demo import generate_city_deliveries, generate_deliveries
from lepton_logistics.eta.evaluate import quality_notes
from lepton_logistics.eta.features import DeliveryFeatures, detect_geo_pairs
from lepton_logistics.eta.travel_rows import pair_rows
from lepton_logistics.geo import bearing_deg, haversine_km


def test_haversine_and_bearing_match_known_values() -> None:
    assert haversine_km(52.52, 13.405, 48.137, 11.575) == pytest.approx(504.3, abs=1.0)
    assert bearing_deg(0.0, 0.0, 0.0, 1.0) == pytest.approx(90.0)
    assert bearing_deg(0.0, 0.0, 1.0, 0.0) == pytest.approx(0.0)


def test_lat_lon_pairs_are_found_by_prefix() -> None:
    columns = ["order_id", "pickup_lat", "pickup_lon", "items", "dropoff_latitude", "dropoff_longitude"]
    assert detect_geo_pairs(columns) == [["pickup_lat", "pickup_lon", "dropoff_latitude", "dropoff_longitude"]]
    assert detect_geo_pairs(["lat", "items"]) == []


def test_features_are_derived_and_bad_coordinates_refused() -> None:
    features = DeliveryFeatures([["a_lat", "a_lon", "b_lat", "b_lon"]], "when")
    frame = pd.DataFrame({"a_lat": [52.52, None], "a_lon": [13.405, 13.4], "b_lat": [52.52, 52.5],
                          "b_lon": [13.5, 13.4], "when": ["2024-05-06 14:30", None]})
    out = features.add_to(frame)
    assert out.loc[0, "haversine_km"] == pytest.approx(6.43, abs=0.05)
    assert out.loc[0, "bearing_sin"] == pytest.approx(1.0, abs=1e-3)
    assert out.loc[0, "hour_of_day"] == 14.5 and out.loc[0, "day_of_week"] == 0.0
    assert np.isnan(out.loc[1, "haversine_km"]) and np.isnan(out.loc[1, "hour_of_day"])
    with pytest.raises(DataError, match="columns 'b_lat'/'b_lon': 1 latitude/longitude value"):
        features.add_to(frame.assign(b_lat=[52.5, 91.0]))
    with pytest.raises(DataError, match="time column 'when' has values that are not dates"):
        features.add_to(frame.assign(when=["2024-05-06 14:30", "soon"]))


def test_city_table_derives_features_and_serves_raw_rows() -> None:
    frame = generate_city_deliveries(600, seed=1)
    datamodule = EtaDataModule(path=None, id_column="order_id", batch_size=128)
    datamodule.demo_frame = lambda: frame
    datamodule.setup()
    assert datamodule.delivery_features.time_column == "order_time"
    assert {"haversine_km", "bearing_sin", "hour_of_day", "day_of_week"} <= set(datamodule.preprocessor.columns)
    assert datamodule.distance_feature == "haversine_km"
    row = datamodule.input_example()[0]
    assert set(row) == {*datamodule.raw_columns, "order_id"}
    assert "order_time" in row and "haversine_km" not in row


def test_baselines_predict_p50_below_p90() -> None:
    datamodule = EtaDataModule(n_rows=800, seed=0)
    datamodule.setup()
    for baseline in (LinearDistanceBaseline(), GradientBoostingBaseline(max_iter=30)):
        p50, p90 = baseline.fit(datamodule).predict((datamodule, "test"))
        assert p50.shape == datamodule.targets["test"].shape
        assert np.all(p90 >= p50)


def test_demo_time_grows_with_distance() -> None:
    frame = generate_deliveries(3000, seed=0)
    near = frame[frame.distance_km < 2].delivery_minutes.median()
    far = frame[frame.distance_km > 6].delivery_minutes.median()
    assert far > 1.5 * near


def test_quality_notes_say_when_the_target_is_missed() -> None:
    metrics = {"model": {"mae": 3.5, "p90_coverage": 0.9}, "linear_distance": {"mae": 4.0},
               "gradient_boosting": {"mae": 3.0}}
    notes = " ".join(quality_notes(metrics))
    assert "beats the linear distance baseline" in notes
    assert "NOT within the 10% quality target" in notes


def test_routing_rows_fill_what_the_eta_bundle_knows() -> None:
    state = {"raw_columns": ["distance_km", "hour", "weekday", "weather"], "distance_feature": "distance_km",
             "features": {"geo_pairs": [], "time_column": None}}
    rows = pair_rows(state, np.zeros(2), np.zeros(2), np.ones(2), np.ones(2), np.array([1.5, 2.5]), 9, 2)
    assert rows[1] == {"distance_km": 2.5, "hour": 9, "weekday": 2, "weather": None}
