"""Monitoring: a simulated drift scenario fires the rules in order, rules errors, /feedback, /metrics, Grafana."""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from lepton_core.errors import ConfigError, MonitorAlert
from lepton_core.monitoring import (
    LogSettings,
    MonitorOptions,
    SegmentLog,
    WindowSpec,
    load_profile,
    parse_rules,
)
from lepton_core.monitoring.report import monitor_log
from lepton_core.serve import ServerThread, build_app

RULES = """\
window: {size: 200, min_samples: 100}
rules:
  - name: input drift
    when: psi > 0.25
    for: 3 windows
  - name: auc drop
    when: live_auc < test_auc - 0.05
"""


@pytest.fixture(scope="module")
def bundle(example_run: Path) -> Path:
    return example_run / "bundle"


def _scenario_log(bundle: Path, log_dir: Path) -> None:
    """10 windows of 200: inputs shift from window 4 on, labels decay (40% flipped) from window 8; 50 more at the end."""
    from lepton_example.data import make_moons

    from lepton_core.bundle import load_bundle

    predictor = load_bundle(bundle).predictor
    profile = load_profile(bundle)[0]
    frame = make_moons(2050, 0.15, seed=7)
    frame.loc[800:, "x1"] += 1.5
    outputs = predictor.predict_items(predictor.validate(frame[["x1", "x2"]].to_dict("records")))
    rng = np.random.default_rng(0)
    log = SegmentLog(LogSettings(log_dir), "predictions")
    labels = SegmentLog(LogSettings(log_dir), "labels")
    start = time.time() - 3600
    for i, (row, output) in enumerate(zip(frame.to_dict("records"), outputs, strict=True)):
        log.append([{"request_id": f"r{i}", "item": 0, "time": start + i, "latency_s": 0.001,
                     "model_version": profile.model_version, "inputs": {"x1": row["x1"], "x2": row["x2"]},
                     "outputs": output}])
        label = int(row["label"]) if i < 800 else int(output["probability"] >= 0.5)  # the model stays right
        if i >= 1600 and rng.random() < 0.4:
            label = 1 - label
        labels.append([{"request_id": f"r{i}", "item": 0, "label": label, "time": start + i}])
    log.close()
    labels.close()


def test_drift_then_decaying_labels_fire_the_rules_in_order(bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _scenario_log(bundle, tmp_path / "log")
    (tmp_path / "rules.yaml").write_text(RULES)
    result = monitor_log(bundle, tmp_path / "log", tmp_path / "rules.yaml", tmp_path / "monitor.html")
    assert [(r["name"], r["fired_at"]) for r in result.fired] == [("input drift", 6), ("auc drop", 8)]
    windows = result.windows
    assert all(w["psi"] < 0.25 for w in windows[:4]) and all(w["psi"] > 0.25 for w in windows[4:10])
    assert windows[10]["count"] == 50 and windows[10]["psi"] is None and windows[10]["live"]["roc_auc"] is None
    assert windows[7]["live"]["roc_auc"] > 0.95 and windows[9]["live"]["roc_auc"] < 0.8
    exported = pd.read_csv(result.export)
    assert list(exported.columns) == ["x1", "x2", "label"] and len(exported) == 2050
    assert result.report.read_text().count("<img") == 6
    monkeypatch.setattr(sys, "argv", ["lepton", "monitor", str(bundle), "--log", str(tmp_path / "log"),
                                      "--rules", str(tmp_path / "rules.yaml"), "-o", str(tmp_path / "cli.html")])
    from lepton_core.cli import main

    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == MonitorAlert.exit_code == 7
    out = capsys.readouterr()
    assert "rule 'input drift' (psi > 0.25, for 3 window(s)): FIRED at window 6" in out.out
    assert f"lepton run plugin=example task=classify data.path={(tmp_path / 'cli-labelled.csv').resolve()}" in out.out
    assert out.err.startswith("error: 2 monitoring rule(s) fired")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [{when: psi >> 2}]", "exactly one comparison"),
        ("rules: [{when: psi > 0.2 +}]", "ends with a sign"),
        ("rules: [{when: live_mae > 2}]", "'live_mae' is unknown for this bundle"),
        ("rules: [{when: 'psi[x9] > 1'}]", "feature 'x9' is not monitored"),
        ("rules: [{when: psi > 1, for: three}]", "is not a count of windows"),
        ("rules: [{when: __import__('os') > 1}]", "cannot read"),
        ("window: {size: 10, min_samples: 50}\nrules: [{when: psi > 1}]", "min_samples 50 is not between"),
        ("rules: {when: psi > 1}", "expected a list"),
        ("rules: [{when: psi > 1, then: x}]", "a rule is a mapping"),
        ("- when: [", "not valid YAML"),
    ],
)
def test_bad_rules_are_one_line_config_errors(bundle: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        parse_rules(text, load_profile(bundle)[0], "rules.yaml")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("rules.yaml")


@pytest.fixture(scope="module")
def server(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    options = MonitorOptions(True, LogSettings(tmp_path_factory.mktemp("served")), WindowSpec(40, 20))
    app, _ = build_app(bundle, "torch", monitoring=options)
    with ServerThread(app) as running, httpx.Client(base_url=running.url, timeout=30) as client:
        while client.get("/readyz").status_code != 200:
            time.sleep(0.02)
        yield client


def test_feedback_is_validated_and_reports_unknown_ids(server: httpx.Client) -> None:
    answer = server.post("/predict", json=[{"x1": 0.1, "x2": 0.2}, {"x1": 1.0, "x2": 0.0}], headers={"x-request-id": "fb-1"})
    assert answer.status_code == 200
    ok = server.post("/feedback", json=[{"request_id": "fb-1", "item": 1, "label": 0}, {"request_id": "gone", "label": 1}])
    assert ok.status_code == 200
    assert ok.json() == {"accepted": 1, "stored": 2, "unknown_count": 1, "unknown": ["gone"], "rejected": []}
    rejected = server.post("/feedback", json={"request_id": "fb-1", "label": [1.0, 2.0]}).json()
    assert rejected["accepted"] == 0 and "send a class" in rejected["rejected"][0]["reason"]
    for body in (b'{"request_id": "fb-1", "label": NaN}', b'{"request_id": "a b", "label": 1}', b'{"label": 1}',
                 b'{"request_id": "x", "label": 1, "api_key": "k"}', b"[" + b'{"request_id":"x","label":1},' * 10_000 + b"{}]",
                 b"not json"):
        response = server.post("/feedback", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (body[:40], response.text)
        assert "detail" in response.json()
    assert server.post("/feedback", content=b"[" + b" " * (2 << 20) + b"]").status_code == 413


def _grafana_dashboard() -> dict:
    text = (Path(__file__).parents[1] / "docs" / "monitoring.md").read_text()
    block = re.search(r"```json\n(\{\n  \"title\".*?\n)```", text, re.DOTALL)
    assert block, "docs/monitoring.md has no Grafana dashboard JSON block"
    return json.loads(block[1])


def test_metrics_are_nan_until_min_samples_and_grafana_queries_name_exported_metrics(server: httpx.Client) -> None:
    metrics = server.get("/metrics").text
    before = re.search(r'^lepton_feature_drift_psi\{feature="x1"\} (\S+)$', metrics, re.MULTILINE)
    assert before and (before[1] == "NaN" or float(before[1]) >= 0)
    if before[1] == "NaN":  # the window is not full yet in this module's server
        assert 'lepton_live_metric{metric="roc_auc"} NaN' in metrics
    server.post("/predict", json=[{"x1": 0.5 + i / 40, "x2": 0.2} for i in range(60)], headers={"x-request-id": "m-1"})
    server.post("/feedback", json=[{"request_id": "m-1", "item": i, "label": int(i % 2)} for i in range(60)])
    time.sleep(2.1)  # the snapshot cache
    metrics = server.get("/metrics").text
    psi = float(re.search(r'^lepton_feature_drift_psi\{feature="x1"\} (\S+)$', metrics, re.MULTILINE)[1])
    assert math.isfinite(psi) and psi > 0.25
    assert re.search(r'^lepton_live_metric\{metric="roc_auc"\} 0\.\d+$', metrics, re.MULTILINE)
    exported = set(re.findall(r"^# TYPE (\S+) (\w+)$", metrics, re.MULTILINE))
    names = {name for name, _ in exported}
    assert {"lepton_http_requests_total", "lepton_http_request_duration_seconds", "lepton_live_metric",
            "lepton_test_metric", "lepton_prediction_drift_psi"} <= names
    assert all(n.endswith("_total") for n, kind in exported if kind == "counter")
    queries = [t["expr"] for p in _grafana_dashboard()["panels"] for t in p.get("targets", [])]
    assert len(queries) >= 5
    for query in queries:
        for name in re.findall(r"\blepton_[a-z_]+", query):
            assert re.sub(r"_(bucket|sum|count)$", "", name) in names, f"{name} in a Grafana query is not exported"
