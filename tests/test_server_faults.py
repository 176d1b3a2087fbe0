"""Server faults: schema fuzzing gives no 5xx, 10,000 requests at concurrency 64 all succeed, and slow or
disconnecting clients do not hold up the others. The server runs `lepton serve` in its own process on
loopback, with the example bundle (the fuzzing also with a finance bundle)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode

from lepton_core.testing.cli import latest_run, run_lepton

HOST = "127.0.0.1"


@contextmanager
def _serving(bundle: Path, log_path: Path) -> Iterator[dict[str, object]]:
    """`lepton serve BUNDLE` on a free loopback port, ready; its URL, port and input example."""
    with log_path.open("w") as log:  # a file, not a pipe: nobody has to keep reading the server's log
        command = [
            sys.executable,
            "-m",
            "lepton_core.cli",
            "serve",
            str(bundle),
            "--port",
            "0",
            "--log-level",
            "warning",
        ]
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "300"}
        )
    try:
        port = None
        deadline = time.monotonic() + 120
        while port is None:
            match = re.search(r"http://127\.0\.0\.1:(\d+)", log_path.read_text())
            port = int(match.group(1)) if match else None
            assert proc.poll() is None, f"lepton serve exited: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "lepton serve did not say where it listens"
            time.sleep(0.1)
        example = json.loads((bundle / "lepton.json").read_text())["input_example"]
        asyncio.run(_wait_ready(port))
        yield {"url": f"http://{HOST}:{port}", "port": port, "example": example, "log": log_path}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(example_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The example plugin's bundle, served."""
    with _serving(example_run / "bundle", tmp_path_factory.mktemp("serve") / "serve.log") as served:
        yield served


@pytest.fixture(scope="module")
def finance_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A finance credit-scoring bundle (a wide table with text categories and reason codes), served."""
    out = tmp_path_factory.mktemp("finance_run")
    args = ["run", "plugin=finance", "task=credit_scoring", "debug=smoke", "data.n_rows=1500"]
    proc = run_lepton(args, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bundle = latest_run(out, "finance", "credit_scoring") / "bundle"
    with _serving(bundle, out / "serve.log") as served:
        yield served


async def _wait_ready(port: int) -> None:
    for _ in range(600):
        try:
            status, _ = await _request(port, "GET", "/readyz")
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("the server never became ready")


# ---------------------------------------------------------------- a minimal HTTP/1.1 client on asyncio streams


def _request_bytes(method: str, path: str, body: bytes = b"") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    return status, await reader.readexactly(length)


async def _request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(_request_bytes(method, path, body))
        await writer.drain()
        return await _read_response(reader)
    finally:
        writer.close()


async def _predict_many(port: int, bodies: list[bytes], concurrency: int) -> list[tuple[int, bytes]]:
    """POST every body to /predict over ``concurrency`` keep-alive connections; the answers in order."""
    results: list[tuple[int, bytes]] = [(0, b"")] * len(bodies)
    next_index = iter(range(len(bodies)))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for i in next_index:
                writer.write(_request_bytes("POST", "/predict", bodies[i]))
                await writer.drain()
                results[i] = await _read_response(reader)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return results


def _server_errors(port: int) -> int:
    """5xx answers the server has counted so far (its Prometheus metrics)."""
    _, text = asyncio.run(_request(port, "GET", "/metrics"))
    lines = [line for line in text.decode().splitlines() if line.startswith("lepton_http_requests_total")]
    assert lines, "the server exposes request counts"
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if re.search(r'status="5\d\d"', line))


# ---------------------------------------------------------------- schema fuzzing


@pytest.mark.parametrize("served", ["server", "finance_server"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_fuzzing_never_gets_a_server_error(
    request: pytest.FixtureRequest, served: str, mode: GenerationMode
) -> None:
    """Cases generated from the server's own OpenAPI schema, valid and invalid, for every operation."""
    server = request.getfixturevalue(served)
    schema = schemathesis.openapi.from_url(f"{server['url']}/openapi.json")
    answers: dict[str, set[int]] = {}

    @given(case=schema.as_strategy(mode))
    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call(timeout=20)
        answers.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
        assert response.status_code < 500, (
            f"{case.method} {case.path} -> {response.status_code}: {response.text[:300]}"
        )

    call()
    assert "POST /predict" in answers, answers
    if mode is GenerationMode.NEGATIVE:
        assert answers["POST /predict"] & {413, 422}, "invalid bodies are refused with a 4xx"


# ---------------------------------------------------------------- load and misbehaving clients


@pytest.mark.slow
def test_ten_thousand_requests_at_concurrency_64_all_succeed(server: dict[str, object]) -> None:
    example = server["example"]
    bodies = [json.dumps(example[i % len(example)] if i % 3 else example).encode() for i in range(10_000)]
    errors_before = _server_errors(server["port"])
    results = asyncio.run(
        asyncio.wait_for(_predict_many(server["port"], bodies, concurrency=64), timeout=600)
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10_000, {s: statuses.count(s) for s in set(statuses)}
    for i in (0, 1, 2, 9_999):
        answer = json.loads(results[i][1])
        assert (
            len(answer) == len(example)
            if isinstance(answer, list)
            else set(answer) == {"probability", "label"}
        )
    assert _server_errors(server["port"]) == errors_before


def test_slow_body_clients_do_not_hold_up_the_others(server: dict[str, object]) -> None:
    port, body = server["port"], json.dumps(server["example"]).encode()

    async def slow_client() -> int:
        reader, writer = await asyncio.open_connection(HOST, port)
        request = _request_bytes("POST", "/predict", body)
        head_end = request.index(b"\r\n\r\n") + 4
        writer.write(request[:head_end])
        for byte in request[head_end:]:  # one byte every 20 ms: the body takes seconds to arrive
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)
        status, _ = await _read_response(reader)
        writer.close()
        return status

    async def scenario() -> tuple[list[int], list[int], bool]:
        slow = [asyncio.create_task(slow_client()) for _ in range(8)]
        await asyncio.sleep(0.2)
        normal = await _predict_many(port, [body] * 200, concurrency=8)
        still_sending = not any(task.done() for task in slow)
        return [s for s, _ in normal], await asyncio.gather(*slow), still_sending

    normal, slow, still_sending = asyncio.run(asyncio.wait_for(scenario(), timeout=300))
    assert normal == [200] * 200
    assert still_sending, "the 200 normal requests were answered while the slow clients were still sending"
    assert slow == [200] * 8, "the slow clients are answered too"


def test_disconnecting_clients_do_not_affect_the_others(server: dict[str, object]) -> None:
    port, body = server["port"], json.dumps(server["example"]).encode()
    errors_before = _server_errors(port)

    async def leave_mid_body() -> None:
        _, writer = await asyncio.open_connection(HOST, port)
        request = _request_bytes("POST", "/predict", body)
        writer.write(request[: len(request) - len(body) // 2])
        await writer.drain()
        writer.close()

    async def leave_before_the_answer() -> None:
        _, writer = await asyncio.open_connection(HOST, port)
        writer.write(_request_bytes("POST", "/predict", body) * 3)
        await writer.drain()
        writer.transport.abort()  # a reset, not a clean close

    async def scenario() -> list[int]:
        leaving = [leave_mid_body() for _ in range(30)] + [leave_before_the_answer() for _ in range(30)]
        normal = _predict_many(port, [body] * 300, concurrency=16)
        *_, answers = await asyncio.gather(*leaving, normal)
        return [status for status, _ in answers]

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=300)) == [200] * 300
    assert asyncio.run(_request(port, "GET", "/livez"))[0] == 200
    assert _server_errors(port) == errors_before
