"""`lepton serve` against a real uvicorn server on 127.0.0.1: valid, invalid, oversized, NaN, concurrent requests."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from lepton_core.bundle import load_bundle
from lepton_core.serve import AccessControl, ServerThread, ServeSettings, build_app, create_app
from lepton_core.testing.cli import run_lepton


def _wait_ready(client: httpx.Client, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "server never became ready"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def bundle(example_run: Path) -> Path:
    return example_run / "bundle"


@pytest.fixture(scope="module")
def client(bundle: Path) -> Iterator[httpx.Client]:
    app, runtime = build_app(bundle, "torch")
    assert runtime == "torch"
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        _wait_ready(http)
        yield http


def test_one_item_and_a_list_match_the_bundle_example(client: httpx.Client, bundle: Path) -> None:
    manifest = json.loads((bundle / "lepton.json").read_text())
    example, expected = manifest["input_example"], manifest["output_example"]
    one = client.post("/predict", json=example[0])
    assert one.status_code == 200 and one.headers["x-request-id"]
    assert one.json() == pytest.approx(expected[0], abs=1e-6)
    many = client.post("/predict", json=example)
    assert many.status_code == 200
    assert many.json() == [pytest.approx(row, abs=1e-6) for row in expected]
    assert client.post("/predict", json=[]).json() == []


def test_invalid_items_get_422_with_the_field_path(client: httpx.Client) -> None:
    response = client.post("/predict", json=[{"x1": 0.1, "x2": 0.2}, {"x1": "abc", "x2": 0.2}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 1, "x1"]
    missing = client.post("/predict", json={"x1": 0.1})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "x2"]
    assert client.post("/predict", content=b"{not json").status_code == 422
    assert client.post("/predict", json="just a string").status_code == 422


@pytest.mark.parametrize("body", [b'{"x1": NaN, "x2": 1}', b'{"x1": 1e999, "x2": 1}', b'[{"x1": 1, "x2": -Infinity}]'])
def test_nan_and_infinity_are_refused(client: httpx.Client, body: bytes) -> None:
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


def test_oversized_bodies_get_413_before_parsing(client: httpx.Client) -> None:
    big = b"[" + b'{"x1": 1.0, "x2": 2.0},' * 60_000 + b'{"x1": 1.0, "x2": 2.0}]'
    assert client.post("/predict", content=big).status_code == 413

    def chunks() -> Iterator[bytes]:
        yield big[: len(big) // 2]
        yield big[len(big) // 2 :]

    chunked = client.post("/predict", content=chunks())
    assert chunked.status_code == 413


def test_concurrent_requests_are_answered_each_with_its_own_result(client: httpx.Client) -> None:
    points = [{"x1": i / 10 - 2, "x2": (i % 7) / 5 - 0.5} for i in range(48)]
    alone = client.post("/predict", json=points).json()
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda p: client.post("/predict", json=p), points))
    assert all(a.status_code == 200 for a in answers)
    assert [a.json() for a in answers] == [pytest.approx(row, abs=1e-6) for row in alone]


def test_health_info_metrics_and_docs(client: httpx.Client) -> None:
    assert client.get("/livez").json() == {"status": "alive"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.post("/predict", json=[{"x1": 5.0, "x2": 5.0}] * 20)
    info = client.get("/info").json()
    assert info["plugin"] == "example" and info["runtime"] == "torch" and info["task"] == "classify"
    assert "roc_auc" in json.dumps(info["metrics"]) and info["bundle"]["versions"]["lepton_core"]
    assert info["input_schema"]["required"] == ["x1", "x2"] and info["settings"]["max_connections"] == 1000
    assert "drift" not in info and "manifest" not in info
    metrics = client.get("/metrics").text
    assert 'lepton_http_requests_total{route="/predict",status="200"}' in metrics
    assert 'lepton_http_requests_total{route="/predict",status="422"}' in metrics
    assert "lepton_http_request_duration_seconds_bucket" in metrics
    assert 'lepton_batch_size_bucket{le="+Inf"}' in metrics
    assert "lepton_queue_depth 0" in metrics
    assert 'lepton_feature_drift_psi{feature="x1"}' in metrics
    schema = client.get("/openapi.json").json()
    assert "/predict" in schema["paths"] and "x1" in schema["components"]["schemas"]["Point"]["properties"]
    example = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert client.post("/predict", json=example["one item"]["value"]).status_code == 200


def test_nothing_published_comes_from_training_rows(client: httpx.Client, bundle: Path) -> None:
    """/info, /openapi.json and /docs show schemas and examples built from them, never the bundle's rows."""
    manifest = json.loads((bundle / "lepton.json").read_text())
    rows = [*manifest["input_example"], *manifest["output_example"]]
    values = {repr(v) for row in rows for v in row.values() if isinstance(v, float)}
    client.post("/predict", json=manifest["input_example"])
    published = client.get("/info").text + client.get("/openapi.json").text + client.get("/docs").text
    assert values and not [v for v in values if v in published], "a training row's value is published"
    assert "psi" not in client.get("/info").text and "lepton_feature_drift_psi" in client.get("/metrics").text


def test_docs_render_from_local_files_only(client: httpx.Client) -> None:
    html = client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"""url: ?["']([^"']+)["']""", html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "http://" not in html and "https://" not in html
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 1000, asset
    assert "SwaggerUIBundle" in client.get("/docs/static/swagger-ui-bundle.js").text


def test_api_key_and_allowed_hosts(bundle: Path, tmp_path: Path) -> None:
    key = "k" * 12 + "-secret-key"
    app, _ = build_app(bundle, "torch", access=AccessControl(key, ("models.example.com",)))
    point = {"x1": 0.1, "x2": 0.2}
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        good = {"Host": "models.example.com", "Authorization": f"Bearer {key}"}
        _wait_ready(http)
        assert http.get("/livez").status_code == 200, "health routes stay open (any host, no key)"
        assert http.post("/predict", json=point, headers=good).status_code == 200
        for path in ("/predict", "/info", "/openapi.json", "/docs", "/metrics"):
            method = "POST" if path == "/predict" else "GET"
            missing = http.request(method, path, json=point, headers={"Host": "models.example.com"})
            assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer"), path
            wrong = http.request(method, path, json=point, headers={**good, "Authorization": "Bearer " + "x" * 23})
            assert wrong.status_code == 401 and "invalid_token" in wrong.headers["www-authenticate"], path
            assert http.request(method, path, json=point, headers={**good, "Host": "evil.test"}).status_code == 400
        assert http.get("/info", headers=good).json()["access"] == {
            "api_key_required": True,
            "allowed_hosts": ["models.example.com"],
        }
        assert key not in http.get("/info", headers=good).text + http.get("/metrics", headers=good).text


class SlowOrBroken:
    """Wraps a predictor: slow model calls; an item with x1 == 999 makes the model fail."""

    def __init__(self, predictor: Any, seconds: float) -> None:
        self.predictor, self.seconds = predictor, seconds
        self.release = threading.Event()

    def __call__(self, items: list[Any]) -> list[Any]:
        self.release.wait(timeout=10)
        time.sleep(self.seconds)
        if any(item.x1 == 999 for item in items):
            raise RuntimeError("secret-input-999 broke the model")
        return self.predictor.__class__.predict_items(self.predictor, items)


def test_loading_busy_and_failing_server(bundle: Path) -> None:
    loaded = load_bundle(bundle)
    slow = SlowOrBroken(loaded.predictor, 0.05)
    loaded.predictor.predict_items = slow
    app = create_app(loaded, "torch", ServeSettings(max_batch_size=1, max_queue_items=1))
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        loading = http.get("/readyz")
        assert loading.status_code == 503 and loading.headers["retry-after"] == "1"
        assert http.post("/predict", json={"x1": 0.0, "x2": 0.0}).status_code == 503
        slow.release.set()
        _wait_ready(http)
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda i: http.post("/predict", json={"x1": i, "x2": 0.0}), range(8)))
        statuses = sorted(a.status_code for a in answers)
        assert 200 in statuses and 503 in statuses, statuses
        assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 503)
        failed = http.post("/predict", json={"x1": 999, "x2": 0.0})
        assert failed.status_code == 500
        assert set(failed.json()) == {"detail", "request_id"} and failed.json()["detail"] == "internal error"
        assert "999" not in failed.text and "secret" not in failed.text and "Traceback" not in failed.text
        assert failed.json()["request_id"] == failed.headers["x-request-id"]


def test_a_tampered_bundle_is_refused_at_startup(bundle: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "bundle"
    shutil.copytree(bundle, tampered)
    (tampered / "preprocess.json").write_text('{"mean": [0, 0], "std": [1, 1], "features": ["x1", "x2"]}')
    proc = run_lepton(["serve", str(tampered), "--port", "0"], tmp_path, timeout=120)
    assert proc.returncode == 4
    assert proc.stderr.startswith("error: bundle file preprocess.json does not match its sha256")
    assert "Traceback" not in proc.stderr


def test_the_objects_alive_after_warm_up_are_kept_out_of_garbage_collection(bundle: Path) -> None:
    import gc

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    app, _ = build_app(bundle, "torch")
    with ServerThread(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        _wait_ready(http)
        assert gc.get_freeze_count() > 0
