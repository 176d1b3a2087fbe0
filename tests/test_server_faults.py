"""Server faults: schema fuzzing gives no 5xx, 10,000 requests at concurrency 64 all succeed, and slow or
disconnecting clients do not hold up the others. Hostile bodies (thousands of invalid items, deep nesting,
lone surrogates) get a small 4xx while /livez keeps answering; stalled connections (slowloris) are closed
after the header or body timeout and cannot lock out a normal client, even beyond the connection cap. The
server runs `lepton serve` in its own process on loopback, with the example bundle (the fuzzing and the
hostile bodies also with a finance bundle)."""

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
def _serving(bundle: Path, log_path: Path, *options: str) -> Iterator[dict[str, object]]:
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
            *options,
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


@pytest.fixture(scope="module")
def guarded_server(example_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The example bundle served with a small connection cap and one-second header and body timeouts."""
    options = ("--max-connections", "100", "--header-timeout", "1", "--body-timeout", "1", "--max-header-bytes", "8192")
    with _serving(example_run / "bundle", tmp_path_factory.mktemp("guarded") / "serve.log", *options) as served:
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
        max_examples=50,
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


# ---------------------------------------------------------------- hostile bodies


@pytest.mark.parametrize("served", ["server", "finance_server"])
def test_thousands_of_invalid_items_get_a_small_answer_while_livez_answers(
    request: pytest.FixtureRequest, served: str
) -> None:
    """256 KiB of `[{},{},...]` (85,000 items, each missing every field): the first 20 errors and a count."""
    port = request.getfixturevalue(served)["port"]
    body = b"[" + b"{}," * (256 * 1024 // 3) + b"{}]"

    async def scenario() -> tuple[list[tuple[int, bytes]], list[float]]:
        big = asyncio.gather(*(_request(port, "POST", "/predict", body) for _ in range(4)))
        waits: list[float] = []
        while not big.done():
            start = time.perf_counter()
            assert (await _request(port, "GET", "/livez"))[0] == 200
            waits.append(time.perf_counter() - start)
            await asyncio.sleep(0.01)
        return await big, waits

    answers, waits = asyncio.run(asyncio.wait_for(scenario(), timeout=120))
    for status, answer in answers:
        assert status == 422 and len(answer) < 20_000, (status, len(answer))
        parsed = json.loads(answer)
        assert len(parsed["detail"]) == 20 and parsed["detail"][0]["loc"][:2] == ["body", 0]
        assert parsed["more_errors"] > 0 and parsed["unchecked_items"] > 80_000
    assert waits and max(waits) < 1.0, f"/livez waited {max(waits):.2f} s behind the invalid bodies"


@pytest.mark.parametrize("served", ["server", "finance_server"])
def test_deep_nesting_and_lone_surrogates_are_client_errors(request: pytest.FixtureRequest, served: str) -> None:
    server = request.getfixturevalue(served)
    item = json.dumps(server["example"][0])
    field = next(iter(server["example"][0]))
    bodies = [
        b"[" * 1000 + b"]" * 1000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 40 + b"1" + b"}" * 40,
        json.dumps({**json.loads(item), field: "\ud800"}).encode(),  # a lone surrogate as a value
        item[:-1].encode() + rb', "\ud800": 1}',  # ... as a field name
        json.dumps([json.loads(item), {**json.loads(item), field: ["\udfff"]}]).encode(),
        rb'"\ud800"',
    ]
    errors_before = _server_errors(server["port"])  # counts the 503s of /readyz while it was loading
    for body in bodies:
        status, answer = asyncio.run(_request(server["port"], "POST", "/predict", body))
        assert 400 <= status < 500, (body[:60], status, answer[:300])
        assert len(json.loads(answer)["detail"]) >= 1
    assert _server_errors(server["port"]) == errors_before


# ---------------------------------------------------------------- stalled connections (slowloris)


def _open_files_for(count: int) -> int:
    """Raise this process's soft open-file limit towards ``count`` + 100; how many connections fit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 100 if hard == resource.RLIM_INFINITY else min(count + 100, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    return min(count, soft - 100)


async def _closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bool:
    """True once the server closes the connection (EOF or reset) within ``timeout`` seconds."""
    try:
        while await asyncio.wait_for(reader.read(65536), timeout):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


def test_stalled_connections_beyond_the_cap_lock_nobody_out_and_are_closed(guarded_server: dict[str, object]) -> None:
    """1,100 connections (cap 100) that send half a request line: a normal client is still answered, and
    every stalled one is closed within the one-second header timeout (or earlier, to make room)."""
    port, stalled_count = guarded_server["port"], _open_files_for(1100)
    assert stalled_count > 100, "this machine cannot open more connections than the server's cap"

    async def scenario() -> tuple[list[int], list[bool]]:
        stalled = []
        for _ in range(stalled_count):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"GET /livez HT")
            stalled.append((reader, writer))
        answers = [(await _request(port, "GET", "/livez"))[0] for _ in range(20)]
        answers += [s for s, _ in await _predict_many(port, [json.dumps(guarded_server["example"]).encode()] * 20, 4)]
        closed = await asyncio.gather(*(_closed_by_server(reader, 5.0) for reader, _ in stalled))
        for _, writer in stalled:
            writer.close()
        return answers, closed

    answers, closed = asyncio.run(asyncio.wait_for(scenario(), timeout=120))
    assert answers == [200] * 40
    assert all(closed), f"{closed.count(False)} stalled connections are still open after the header timeout"
    assert asyncio.run(_request(port, "GET", "/livez"))[0] == 200


def test_idle_slow_body_and_oversized_head_connections_are_closed(guarded_server: dict[str, object]) -> None:
    port = guarded_server["port"]

    async def connection(data: bytes) -> tuple[bytes, bool]:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(data)
        answer = b""
        try:
            answer = await asyncio.wait_for(reader.read(65536), 5.0)
            closed = answer == b"" or await _closed_by_server(reader, 5.0)
        except (TimeoutError, OSError):
            closed = False
        writer.close()
        return answer, closed

    async def scenario() -> list[tuple[bytes, bool]]:
        return await asyncio.gather(
            connection(b""),  # connects and sends nothing
            connection(_request_bytes("POST", "/predict", b"x" * 100)[:-90]),  # a body that stops
            connection(b"GET /" + b"a" * 20_000),  # a request line longer than --max-header-bytes
            connection(b"GET /livez HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: y\r\n" * 1000),  # endless headers
        )

    (idle, _), (slow_body, _), (long_line, _), (long_headers, _) = results = asyncio.run(scenario())
    assert all(closed for _, closed in results), results
    assert idle == b"" and slow_body == b""
    assert long_line.startswith(b"HTTP/1.1 431") and long_headers.startswith(b"HTTP/1.1 431")
    assert asyncio.run(_request(port, "GET", "/livez"))[0] == 200
