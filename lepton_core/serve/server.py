"""Run the app with uvicorn: `lepton serve` in the foreground, or a background thread (tests, benchmarks)."""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from lepton_core.errors import ServeError
from lepton_core.serve.app import ServeSettings, create_app

__all__ = ["ServerThread", "bind_socket", "build_app", "serve_bundle"]


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one); a port in use raises ServeError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP proto: asyncio sets TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use", "pass another --port") from None
        raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror})", "check --host and --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def build_app(
    bundle_dir: str | Path,
    runtime: str = "auto",
    settings: ServeSettings | None = None,
    device: str = "auto",
    trusted_keys: Sequence[Any] | None = None,
) -> tuple[Any, str]:
    """Verify and load a bundle (a tampered one raises BundleError), pick the runtime, build the app."""
    from lepton_core.bundle import load_bundle
    from lepton_core.deploy.onnx import attach_runtime, resolve_device

    loaded = load_bundle(bundle_dir, device=resolve_device(device), trusted_keys=trusted_keys)
    used = attach_runtime(loaded.path, loaded.manifest, loaded.predictor, runtime)
    return create_app(loaded, used, settings), used


def _config(app: Any, log_level: str) -> Any:
    import uvicorn

    return uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=5)


def serve_bundle(
    bundle_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    runtime: str = "auto",
    settings: ServeSettings | None = None,
    log_level: str = "info",
    trusted_keys: Sequence[Any] | None = None,
) -> None:
    """Serve a bundle until interrupted (the `lepton serve` command)."""
    import torch
    import uvicorn
    from rich.console import Console

    settings = settings or ServeSettings()
    torch.set_num_threads(settings.resolved_torch_threads())
    app, used = build_app(bundle_dir, runtime, settings, trusted_keys=trusted_keys)
    sock = bind_socket(host, port)
    shown = f"[{host}]" if ":" in host else host
    Console(stderr=True).print(
        f"serving [bold]{app.title}[/] on http://{shown}:{sock.getsockname()[1]} (runtime {used}, "
        f"{torch.get_num_threads()} torch thread(s)); docs at /docs, metrics at /metrics"
    )
    uvicorn.Server(_config(app, log_level)).run(sockets=[sock])


class ServerThread:
    """Serve an app from a background thread on 127.0.0.1 and a free port (``with ServerThread(app) as s: s.url``)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        import uvicorn

        self.sock = bind_socket(host, port)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(_config(app, log_level))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise ServeError("the server thread stopped during startup", "see the log above")
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
