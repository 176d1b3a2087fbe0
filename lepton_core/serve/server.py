"""Run the app with uvicorn: `lepton serve` in the foreground, or a background thread (tests, benchmarks)."""

from __future__ import annotations

import errno
import os
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from lepton_core.errors import ConfigError, ServeError
from lepton_core.monitoring.live import MonitorOptions
from lepton_core.serve.app import AccessControl, ServeSettings, create_app
from lepton_core.serve.protocol import protocol_options

__all__ = ["API_KEY_ENV", "ServerThread", "bind_socket", "build_app", "check_listen_options", "read_api_key", "serve_bundle"]

API_KEY_ENV = "LEPTON_API_KEY"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
MIN_KEY_LENGTH = 16
SPARE_FILES = 64  # open files the server needs besides its connections (bundle, logs, libraries)


def check_listen_options(port: int, log_level: str) -> None:
    """Refuse a port outside 0-65535 or an unknown log level (ConfigError) before anything is loaded."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a TCP port", "pass a port from 0 to 65535 (0: any free port)")
    if log_level.lower() not in LOG_LEVELS:
        raise ConfigError(f"--log-level {log_level!r} is unknown", f"use one of: {', '.join(LOG_LEVELS)}")


def read_api_key(path: str | Path | None) -> str | None:
    """The API key from ``path`` (its first line), else from $LEPTON_API_KEY, else None; a weak key raises."""
    if path is not None:
        try:
            key, source = Path(path).read_text("utf-8").strip(), f"--api-key-file {path}"
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read --api-key-file {path} ({exc.__class__.__name__})", "pass a readable text file") from None
    elif os.environ.get(API_KEY_ENV):
        key, source = os.environ[API_KEY_ENV].strip(), f"${API_KEY_ENV}"
    else:
        return None
    if len(key) < MIN_KEY_LENGTH or not key.isascii() or not key.isprintable() or " " in key:
        raise ConfigError(
            f"the API key in {source} is not {MIN_KEY_LENGTH}+ printable ASCII characters without spaces",
            "use a long random key, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return key


def _make_room_for(connections: int) -> None:
    """Raise the soft open-file limit so ``connections`` sockets fit; ServeError when the hard limit is lower."""
    try:
        import resource
    except ImportError:  # Windows: no such limit
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ServeError(
                f"--max-connections {connections} needs {needed} open files but the limit is {hard}",
                "lower --max-connections or raise the limit (ulimit -n)",
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


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
    access: AccessControl | None = None,
    monitoring: MonitorOptions | None = None,
) -> tuple[Any, str]:
    """Verify and load a bundle (a tampered one raises BundleError), pick the runtime, build the app."""
    from lepton_core.bundle import load_bundle
    from lepton_core.deploy.onnx import attach_runtime, resolve_device

    loaded = load_bundle(bundle_dir, device=resolve_device(device), trusted_keys=trusted_keys)
    used = attach_runtime(loaded.path, loaded.manifest, loaded.predictor, runtime)
    return create_app(loaded, used, settings, access, monitoring), used


def _config(app: Any, log_level: str, settings: ServeSettings) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        log_level=log_level.lower(),
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        ws="none",  # no WebSocket routes: an Upgrade request gets no protocol switch
        **protocol_options(settings),
    )


def serve_bundle(
    bundle_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    runtime: str = "auto",
    settings: ServeSettings | None = None,
    log_level: str = "info",
    trusted_keys: Sequence[Any] | None = None,
    access: AccessControl | None = None,
    monitoring: MonitorOptions | None = None,
) -> None:
    """Serve a bundle until interrupted (the `lepton serve` command); bad options fail before loading it."""
    settings = settings or ServeSettings()
    access = access or AccessControl()
    check_listen_options(port, log_level)
    _make_room_for(settings.max_connections)
    sock = bind_socket(host, port)

    import torch
    import uvicorn
    from rich.console import Console

    from lepton_core.vision.images import set_max_image_pixels

    set_max_image_pixels(settings.max_image_pixels)
    torch.set_num_threads(settings.resolved_torch_threads())
    try:
        app, used = build_app(bundle_dir, runtime, settings, access=access, trusted_keys=trusted_keys, monitoring=monitoring)
    except BaseException:
        sock.close()
        raise
    shown = f"[{host}]" if ":" in host else host
    guard = "API key required" if access.api_key else "no API key"
    monitoring = monitoring or MonitorOptions()
    logged = (
        f"logging predictions to {monitoring.log.directory}" if monitoring.enabled and monitoring.log
        else "monitoring in memory only (--log-dir DIR to log)" if monitoring.enabled else "monitoring off"
    )
    Console(stderr=True).print(
        f"serving [bold]{app.title}[/] on http://{shown}:{sock.getsockname()[1]} (runtime {used}, "
        f"{torch.get_num_threads()} torch thread(s), {guard}); docs at /docs, metrics at /metrics, "
        f"dashboard at /dashboard; {logged}"
    )
    uvicorn.Server(_config(app, log_level, settings)).run(sockets=[sock])


class ServerThread:
    """Serve an app from a background thread on 127.0.0.1 and a free port (``with ServerThread(app) as s: s.url``)."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        settings: ServeSettings | None = None,
    ) -> None:
        import uvicorn

        self.sock = bind_socket(host, port)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(_config(app, log_level, settings or ServeSettings()))
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
