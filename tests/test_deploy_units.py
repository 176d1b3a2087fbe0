"""Units of serving: drift profile and PSI, the greedy micro-batcher, validation, Prometheus exposition."""

from __future__ import annotations

import asyncio
import random

import pytest
from pydantic import BaseModel

from lepton_core.deploy.drift import drift_reference, population_stability_index
from lepton_core.deploy.validation import InvalidItems, ItemValidator
from lepton_core.serve.batcher import MicroBatcher, QueueFull
from lepton_core.serve.metrics import ServerMetrics


def _rows(n: int, shift: float, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        {"amount": rng.gauss(shift, 1.0), "channel": rng.choice(["web", "shop", "app"]), "id": f"c{i}", "image": "x" * 200}
        for i in range(n)
    ]


def test_reference_profiles_scalars_and_skips_ids_and_images() -> None:
    reference = drift_reference(_rows(2000, 0.0, 0))
    assert set(reference["features"]) == {"amount", "channel"}
    amount = reference["features"]["amount"]
    assert len(amount["proportions"]) == len(amount["edges"]) + 1 == 10
    assert sum(amount["proportions"]) == pytest.approx(1.0)
    assert "rows" not in reference and "c1" not in str(reference)


def test_psi_and_ks_are_small_for_the_same_distribution_and_large_for_a_shift() -> None:
    from lepton_core.monitoring import MonitorProfile, WindowSpec, analyze

    reference = drift_reference(_rows(2000, 0.0, 0))
    profile = MonitorProfile("p", "t", "v", reference["features"])
    spec = WindowSpec(1500, 100)
    rows = _rows(1500, 0.0, 1) + _rows(1500, 1.5, 2)[:-1] + [{"amount": None, "channel": "fax"}]
    same, shifted = analyze([{"inputs": r} for r in rows], {}, profile, spec)["windows"]
    assert same["features"]["amount"]["psi"] < 0.1 and same["features"]["amount"]["ks_p"] > 0.01
    assert same["features"]["channel"]["psi"] < 0.1 and 0.0 <= same["features"]["channel"]["chi2_p"] <= 1.0
    assert shifted["features"]["amount"]["psi"] > 0.25 and shifted["features"]["amount"]["ks"] > 0.4
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_batcher_groups_waiting_requests_and_never_waits_when_idle() -> None:
    calls: list[list[int]] = []

    def predict(items: list[int]) -> list[int]:
        calls.append(list(items))
        return [i * 10 for i in items]

    async def scenario() -> None:
        batcher = MicroBatcher(predict, max_batch_size=4)
        batcher.start()
        assert await batcher.submit([1]) == [10]
        results = await asyncio.gather(*(batcher.submit([i]) for i in range(6)))
        assert results == [[i * 10] for i in range(6)]
        batcher.stop()

    asyncio.run(scenario())
    assert calls == [[1], [0, 1, 2, 3], [4, 5]]


def test_batcher_isolates_a_failing_request_and_bounds_its_queue() -> None:
    def predict(items: list[int]) -> list[int]:
        if -1 in items:
            raise ValueError("bad item")
        return items

    async def scenario() -> None:
        batcher = MicroBatcher(predict, max_batch_size=8, max_queue_items=3)
        batcher.start()
        outcomes = await asyncio.gather(batcher.submit([1]), batcher.submit([-1]), batcher.submit([2]), return_exceptions=True)
        assert outcomes[0] == [1] and outcomes[2] == [2] and isinstance(outcomes[1], ValueError)
        first = asyncio.ensure_future(batcher.submit([1, 2]))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await batcher.submit([3, 4])
        assert await first == [1, 2]
        batcher.stop()

    asyncio.run(scenario())


def test_validator_reports_every_field_path() -> None:
    class Item(BaseModel):
        x: float
        tags: list[str] = []

    validate = ItemValidator(Item)
    assert validate([{"x": 1}])[0].x == 1.0
    with pytest.raises(InvalidItems) as caught:
        validate([{"x": 1}, {"x": "a", "tags": [1]}])
    assert [e["loc"] for e in caught.value.errors] == [[1, "x"], [1, "tags", 0]]
    with pytest.raises(InvalidItems, match="NaN"):
        validate([{"x": 1, "tags": []}, {"x": float("inf")}])


def test_prometheus_exposition() -> None:
    metrics = ServerMetrics(lambda: 3)
    metrics.observe_request("/predict", 200, 0.004)
    metrics.observe_request("/predict", 200, 0.2)
    metrics.observe_batch(5, 0.001)
    snapshot = {"features": ["amount", "n"], "predictions_total": 5, "labels_total": 0, "live_metrics": ["mae"],
                "test_metrics": {"mae": 1.5}, "current": {"features": {"amount": {"psi": 0.3}}, "live": {}}}
    text = metrics.render(snapshot)
    assert 'lepton_http_requests_total{route="/predict",status="200"} 2' in text
    assert 'lepton_http_request_duration_seconds_bucket{route="/predict",le="0.005"} 1' in text
    assert 'lepton_http_request_duration_seconds_bucket{route="/predict",le="+Inf"} 2' in text
    assert 'lepton_batch_size_bucket{le="4.0"} 0' in text and 'lepton_batch_size_bucket{le="8.0"} 1' in text
    assert "lepton_queue_depth 3" in text and 'lepton_feature_drift_psi{feature="amount"} 0.3' in text
    assert 'lepton_feature_drift_psi{feature="n"} NaN' in text and 'lepton_live_metric{metric="mae"} NaN' in text


def test_a_predictor_that_overrides_only_predict_is_served_through_it() -> None:
    from lepton_core.deploy import Predictor

    class Item(BaseModel):
        n: int

    class Solver(Predictor):
        input_model = output_model = Item

        def predict(self, records):  # type: ignore[no-untyped-def]
            return [{"n": item.n + 1} for item in self.validate(records)]

    class Wrapping(Solver):
        def predict_items(self, items):  # type: ignore[no-untyped-def]
            return [{"n": 0} for _ in items]

    assert Solver().items_predictor()([Item(n=1)]) == [{"n": 2}]
    assert Wrapping().items_predictor()([Item(n=1)]) == [{"n": 0}]
