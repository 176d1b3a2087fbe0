"""A real `lepton serve --log-dir` killed with SIGKILL mid-stream loses no answered prediction; /dashboard in Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from lepton_core.monitoring import LogSettings, MonitorOptions, WindowSpec, read_log
from lepton_core.serve import ServerThread, build_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_killed_server_loses_no_answered_prediction(example_run: Path, tmp_path: Path) -> None:
    port, log_dir = _free_port(), tmp_path / "log"
    server = subprocess.Popen(
        [sys.executable, "-m", "lepton_core.cli", "serve", str(example_run / "bundle"), "--port", str(port),
         "--runtime", "torch", "--log-level", "warning", "--log-dir", str(log_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    answered: list[str] = []
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    response = http.post("/predict", json=[{"x1": 0.1 * worker, "x2": 0.01 * i}] * 3,
                                         headers={"x-request-id": f"w{worker}-{i}"})
                except httpx.HTTPError:
                    return
                if response.status_code == 200:
                    answered.append(response.headers["x-request-id"])
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the server never became ready"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        workers = [threading.Thread(target=client, args=(w,)) for w in range(8)]
        for worker in workers:
            worker.start()
        while len(answered) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)  # mid-stream: 8 clients are sending
        server.wait(timeout=10)
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
        server.stderr.close()
    assert len(answered) >= 200
    assert list(log_dir.glob("predictions-*.jsonl")), "the active segment was not left to recover"
    records, _ = read_log(log_dir)
    logged = {r["request_id"] for r in records}
    missing = [rid for rid in answered if rid not in logged]
    assert not missing, f"{len(missing)} answered predictions are not in the log, e.g. {missing[:3]}"
    assert {r["item"] for r in records} == {0, 1, 2} and all(r["model_version"] for r in records)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_dashboard_draws_charts_with_data_in_a_real_browser(example_run: Path, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    options = MonitorOptions(True, LogSettings(tmp_path / "log"), WindowSpec(30, 15))
    app, _ = build_app(example_run / "bundle", "torch", monitoring=options)
    with ServerThread(app) as running, httpx.Client(base_url=running.url, timeout=30) as http:
        while http.get("/readyz").status_code != 200:
            time.sleep(0.02)
        for i in range(18):  # 6 windows of 30, each from 3 requests (3 batches: 3 distinct times for the volume)
            http.post("/predict", json=[{"x1": 0.05 * i + j / 10, "x2": 0.3} for j in range(10)], headers={"x-request-id": f"d{i}"})
            http.post("/feedback", json=[{"request_id": f"d{i}", "item": j, "label": j % 2} for j in range(10)])
        with playwright_api.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                page.goto(f"{running.url}/dashboard")
                page.wait_for_selector("path.series", timeout=15_000)
                shot = tmp_path / "dashboard.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"dashboard screenshot: {shot}")
                paths = page.eval_on_selector_all(
                    "path.series", "els => els.map(e => [e.dataset.name, Number(e.dataset.points), e.getAttribute('d')])"
                )
                titles = page.eval_on_selector_all(".card h2", "els => els.map(e => e.textContent)")
            finally:
                browser.close()
    assert shot.stat().st_size > 10_000
    names = {name for name, _, _ in paths}
    assert {"x1", "x2", "predictions", "rate", "p50", "p99", "roc_auc"} <= names, names
    assert all(points >= 5 and d.count("L") == points - 1 for _, points, d in paths), paths
    assert "Live roc_auc (dashed: test)" in titles
