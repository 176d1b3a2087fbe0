"""Serving speed: lepton's server (micro-batching) against a minimal FastAPI server wrapping the same torch model.

Both servers run in their own process on 127.0.0.1 and get the same single-item requests from a light
asyncio HTTP/1.1 client (keep-alive, one connection per concurrent user), at concurrency 1 and 32.
Prints requests/s, p50 and p99 for both, and the ratios the serving goals are stated in:
at concurrency 32 at least 1.5x the minimal server's throughput with a p99 no worse; at concurrency 1 a
p50 within 0.2 ms of it. Figures on a shared, noisy machine move between runs: read the ratios.
With --guarded lepton's server also requires an API key and an allowed Host (the client sends both), so
the cost of the access checks is in the figures; the timeouts and connection cap are always on.

    python benchmarks/serve_bench.py [--bundle DIR] [--requests 3000] [--quick] [--guarded] [--logging] [--compare-with SRC]

--logging also serves lepton with --no-log (twice: two identical servers show the noise between processes)
and with --log-dir (the crash-safe prediction log), in the same
interleaved rounds, and prints the requests/s of logging on over off (goal at concurrency 32: >= 0.9) as the
median over rounds of each round's ratio, with the server CPU time per request (Linux), which shared load moves less.

--compare-with SRC serves a third server from another source tree's lepton_core (e.g. `git archive main`
unpacked in SRC), in the same interleaved rounds: a direct before/after of a server change.

Without --bundle it trains the example plugin's bundle first (`lepton run plugin=example`).
"""


import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOST = "127.0.0.1"


def minimal_server(bundle: str, port: int, threads: int) -> None:
    """The reference: the textbook FastAPI endpoint (sync def, pydantic body) calling the same predictor."""
    import torch
    import uvicorn
    from fastapi import FastAPI

    from lepton_core.bundle import load_bundle

    if threads > 0:
        torch.set_num_threads(threads)
    predictor = load_bundle(bundle).predictor
    app = FastAPI()
    item_model = predictor.input_model

    @app.post("/predict")
    def predict(item: item_model) -> dict:  # type: ignore[valid-type]
        return predictor.predict_items([item])[0]

    @app.get("/readyz")
    def readyz() -> dict:
        return {"status": "ready"}

    uvicorn.run(app, host=HOST, port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int, timeout: float = 180.0, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            status = asyncio.run(request_once(port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"))
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not become ready in time")


async def request_once(port: int, raw: bytes) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(raw)
    status, _ = await read_response(reader)
    writer.close()
    return status


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


API_KEY = "benchmark-key-0123456789abcdef"


def post(body: bytes) -> bytes:
    return (
        b"POST /predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s" % (API_KEY.encode(), len(body), body)
    )


async def user(port: int, requests: list[bytes], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    for raw in requests:
        start = time.perf_counter()
        writer.write(raw)
        status, _ = await read_response(reader)
        latencies.append(time.perf_counter() - start)
        if status != 200:
            raise SystemExit(f"request failed with HTTP {status}")
    writer.close()


async def load(port: int, payloads: list[bytes], total: int, concurrency: int) -> dict[str, float]:
    per_user = max(total // concurrency, 1)
    latencies: list[float] = []
    plans = [[payloads[(u + i) % len(payloads)] for i in range(per_user)] for u in range(concurrency)]
    start = time.perf_counter()
    await asyncio.gather(*(user(port, plan, latencies) for plan in plans))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)],
    }


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a server process so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paired_ratios(runs: dict[tuple[str, int], list[dict[str, float]]], name: str, reference: str, concurrency: int) -> list[float]:
    """requests/s of ``name`` over ``reference`` in each round (run within seconds of each other)."""
    return [a["rps"] / b["rps"] for a, b in zip(runs[name, concurrency], runs[reference, concurrency], strict=True)]


def make_bundle(workdir: Path) -> str:
    env = {**os.environ, "LEPTON_OUTPUT_DIR": str(workdir)}
    subprocess.run([sys.executable, "-m", "lepton_core.cli", "run", "plugin=example"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return str(next(workdir.rglob("bundle/lepton.json")).parent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", help="bundle directory (default: train the example plugin's)")
    parser.add_argument("--requests", type=int, default=3000, help="requests per server and concurrency level")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per level (medians are shown)")
    parser.add_argument("--quick", action="store_true", help="500 requests per level, one round")
    parser.add_argument("--same-threads", action="store_true",
                        help="give the minimal server lepton's torch thread count (isolates batching from threading)")
    parser.add_argument("--guarded", action="store_true", help="lepton's server requires an API key and Host: bench")
    parser.add_argument("--logging", action="store_true",
                        help="also serve lepton with --no-log and with --log-dir, and print their ratio")
    parser.add_argument("--compare-with", metavar="SRC",
                        help="also serve with the lepton_core of another source tree (e.g. a `git archive` of main)")
    parser.add_argument("--minimal-server", nargs=3, metavar=("BUNDLE", "PORT", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minimal_server:
        minimal_server(args.minimal_server[0], int(args.minimal_server[1]), int(args.minimal_server[2]))
        return
    total = 500 if args.quick else args.requests
    rounds = 1 if args.quick else args.rounds
    with tempfile.TemporaryDirectory(prefix="lepton-bench-") as tmp:
        bundle = args.bundle or make_bundle(Path(tmp))
        manifest = json.loads((Path(bundle) / "lepton.json").read_text())
        payloads = [post(json.dumps(item).encode()) for item in manifest["input_example"]]
        ports = {"lepton": free_port(), "minimal": free_port()}
        minimal_threads = max(1, (os.cpu_count() or 2) // 2) if args.same_threads else 0
        guard = []
        if args.guarded:
            (Path(tmp) / "api.key").write_text(API_KEY)
            guard = ["--api-key-file", str(Path(tmp) / "api.key"), "--allowed-host", "bench"]
        commands = {
            "lepton": [sys.executable, "-m", "lepton_core.cli", "serve", bundle, "--port", str(ports["lepton"]),
                       "--runtime", "torch", "--log-level", "warning", *guard],
            "minimal": [sys.executable, __file__, "--minimal-server", bundle, str(ports["minimal"]), str(minimal_threads)],
        }
        envs: dict[str, dict[str, str] | None] = {name: None for name in ports}
        if args.compare_with:
            ports["other"] = free_port()
            commands["other"] = [*commands["lepton"][:6], str(ports["other"]), *commands["lepton"][7:]]
            commands["other"] = [c for c in commands["other"] if c not in guard]
            envs["other"] = {**os.environ, "PYTHONPATH": str(Path(args.compare_with).resolve())}
        if args.logging:
            logging_servers = (("no-log", ["--no-log"]), ("no-log-2", ["--no-log"]), ("logged", ["--log-dir", str(Path(tmp) / "log")]))
            for name, extra in logging_servers:
                ports[name] = free_port()
                commands[name] = [*commands["lepton"][:6], str(ports[name]), *commands["lepton"][7:], *extra]
                envs[name] = None
        processes = {name: start(commands[name], ports[name], env=envs[name]) for name in ports}
        runs: dict[tuple[str, int], list[dict[str, float]]] = {}
        try:
            for port in ports.values():
                asyncio.run(load(port, payloads, 300, 8))
            for concurrency in (1, 32):
                for round_index in range(rounds):
                    names = list(ports)  # rotated each round: the server run after another one is not favoured
                    for name in names[round_index % len(names):] + names[: round_index % len(names)]:
                        before = server_cpu_seconds(processes[name].pid)
                        run = asyncio.run(load(ports[name], payloads, total, concurrency))
                        after = server_cpu_seconds(processes[name].pid)
                        if before is not None and after is not None:
                            run["cpu_us"] = 1e6 * (after - before) / run["requests"]
                        runs.setdefault((name, concurrency), []).append(run)
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=30)
    results = {key: {m: statistics.median(r[m] for r in rs) for m in rs[0]} for key, rs in runs.items()}
    threads = "the same torch threads as lepton" if args.same_threads else "torch's default threads"
    print(f"{total} requests per run, {rounds} interleaved round(s), medians; {os.cpu_count()} cores; "
          f"lepton serve uses half of them for torch, the minimal server {threads}"
          f"{'; lepton checks an API key and the Host' if args.guarded else ''}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")
    print(f"{'server':<10}{'conc':>6}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU us/req':>12}")
    for (name, concurrency), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cpu = f"{r['cpu_us']:>12.0f}" if "cpu_us" in r else ""
        print(f"{name:<10}{concurrency:>6}{r['rps']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{cpu}")
    lep32, min32, lep1, min1 = results["lepton", 32], results["minimal", 32], results["lepton", 1], results["minimal", 1]
    ratio = lep32["rps"] / min32["rps"]
    print(f"\nconcurrency 32: throughput {ratio:.2f}x the minimal server (goal >= 1.5x), "
          f"p99 {lep32['p99_ms']:.2f} vs {min32['p99_ms']:.2f} ms (goal: no worse)")
    print(f"concurrency 1: p50 {lep1['p50_ms']:.3f} vs {min1['p50_ms']:.3f} ms, "
          f"difference {lep1['p50_ms'] - min1['p50_ms']:+.3f} ms (goal: within 0.2 ms)")
    if args.logging:
        print("requests/s over --no-log's in the same round (median of rounds, lowest-highest); "
              "CPU time per request of --no-log over the server's (medians)")
        for concurrency in (1, 32):
            off = results["no-log", concurrency]
            for name, shown in (("logged", "--log-dir (goal >= 0.9)"), ("lepton", "default (in-memory)"),
                                ("no-log-2", "a second --no-log server (the noise floor)")):
                ratios = paired_ratios(runs, name, "no-log", concurrency)
                cpu = results[name, concurrency].get("cpu_us")
                print(f"concurrency {concurrency}: {shown} {statistics.median(ratios):.3f}x "
                      f"({min(ratios):.3f}-{max(ratios):.3f}); "
                      + (f"CPU {off['cpu_us'] / cpu:.3f}x; " if cpu else "")
                      + f"p99 {results[name, concurrency]['p99_ms']:.2f} vs {off['p99_ms']:.2f} ms")
    if args.compare_with:
        for concurrency in (1, 32):
            this, other = results["lepton", concurrency], results["other", concurrency]
            print(f"concurrency {concurrency}: this lepton_core {this['rps'] / other['rps']:.2f}x the requests/s of "
                  f"{args.compare_with} ({this['rps'] / results['minimal', concurrency]['rps']:.2f}x vs "
                  f"{other['rps'] / results['minimal', concurrency]['rps']:.2f}x the minimal server)")


if __name__ == "__main__":
    main()
