"""uvicorn's httptools protocol with the limits it lacks: header and body timeouts, a header size cap and a
connection cap.

uvicorn arms its keep-alive timer only once a response is sent, so a client that opens a connection and
sends half a request line, then nothing, is never closed; httptools also has no limit on the size of a
request line or headers. Here every connection must finish its request head within ``header_timeout_s``
of opening (or of the previous response), in at most ``max_header_bytes``, and then its body within
``body_timeout_s``; otherwise it is closed. At ``max_connections`` open connections a new one closes the
oldest connection still waiting for its request head (an idle or stalled one), so a flood of stalled
connections cannot lock out a client that sends its request; with none to close, the new one is answered
503 and closed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from lepton_core.serve.app import ServeSettings

__all__ = ["guarded_protocol", "protocol_options"]

TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def guarded_protocol(
    max_connections: int, header_timeout_s: float, body_timeout_s: float, max_header_bytes: int
) -> type[asyncio.Protocol]:
    """A protocol class for one server (``uvicorn.Config(http=...)``) enforcing these limits."""
    waiting: dict[GuardedProtocol, None] = {}  # connections waiting for a request head, oldest first

    class GuardedProtocol(HttpToolsProtocol):
        """HttpToolsProtocol that closes connections too slow to send their request, and caps connections."""

        _timer: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _reading_body = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            crowded = len(self.connections) >= max_connections
            super().connection_made(transport)
            if crowded and waiting:
                next(iter(waiting))._close()  # the longest-waiting idle or stalled connection
            elif crowded:
                transport.write(BUSY)
                transport.close()
                return
            self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_timer()
            waiting.pop(self, None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            awaiting_head = self in waiting
            if awaiting_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if awaiting_head and self in waiting and self._head_bytes > max_header_bytes:
                self.transport.write(TOO_LARGE)
                self.transport.close()
            elif self._reading_body and self._timer is None:
                self._timer = self.loop.call_later(body_timeout_s, self._expire)

        def on_headers_complete(self) -> None:
            waiting.pop(self, None)
            self._stop_timer()
            self._reading_body = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._reading_body = False
            self._stop_timer()
            super().on_message_complete()
            if self.timeout_keep_alive_task is not None:  # answered before its body was read (413): idle now
                self._await_head()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # idle now (not closing, no pipelined request), unless the rest of the request's body is still coming
            if self.timeout_keep_alive_task is not None and not self._reading_body:
                self._await_head()

        def _await_head(self) -> None:
            self._head_bytes = 0
            waiting[self] = None
            self._stop_timer()
            self._timer = self.loop.call_later(header_timeout_s, self._expire)

        def _stop_timer(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expire(self) -> None:
            self._timer = None
            self._close()

        def _close(self) -> None:
            waiting.pop(self, None)
            self._stop_timer()
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


def protocol_options(settings: ServeSettings) -> dict[str, Any]:
    """uvicorn.Config keyword arguments for the limits in ``settings`` (a ServeSettings)."""
    return {
        "http": guarded_protocol(
            settings.max_connections, settings.header_timeout_s, settings.body_timeout_s, settings.max_header_bytes
        ),
        "timeout_keep_alive": settings.keep_alive_s,
    }
