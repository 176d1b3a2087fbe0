"""`lepton --trace`: print every hook call (implementing plugins, arguments, result, time) to stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lepton_core.hooks.manager import PluginManager

__all__ = ["HookTracer", "trace_hook_calls"]

_ACTIVE: dict[int, Callable[[], None]] = {}


def _describe_value(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return repr(value) if isinstance(value, str) else str(value)
    plugin, task = getattr(value, "plugin", None), getattr(value, "task", None)
    if isinstance(plugin, str) and isinstance(task, str):
        return f"{type(value).__name__}({plugin}/{task})"
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(type(v).__name__ for v in value)}]"
    return type(value).__name__


class HookTracer:
    """pluggy hook-call monitor: one line per finished call, indented by nesting depth."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.started: list[float] = []

    def before(self, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        """Remember when the call started."""
        self.started.append(time.perf_counter())

    def after(
        self, outcome: Any, hook_name: str, hook_impls: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> None:
        """Write ``hook(args) [implementations, in call order] -> result (time)``."""
        elapsed_ms = (time.perf_counter() - self.started.pop()) * 1000
        arguments = ", ".join(f"{k}={_describe_value(v)}" for k, v in kwargs.items())
        plugins = ", ".join(impl.plugin_name for impl in reversed(hook_impls)) or "no implementation"
        if outcome.exception is not None:
            result = f"raised {type(outcome.exception).__name__}"
        else:
            result = _describe_value(outcome.get_result())
        indent = "  " * len(self.started)
        self.write(f"trace: {indent}{hook_name}({arguments}) [{plugins}] -> {result} ({elapsed_ms:.1f} ms)")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def trace_hook_calls(manager: PluginManager, write: Callable[[str], None] = _stderr) -> Callable[[], None]:
    """Trace every hook call of ``manager`` (once per manager); return the function that stops tracing."""
    if id(manager) in _ACTIVE:
        return _ACTIVE[id(manager)]
    for name, record in sorted(manager.records.items()):
        where = record.location if record.info is not None else record.error or record.status
        write(f"trace: plugin {name} ({record.distribution} {record.dist_version}) {record.status}: {where}")
    tracer = HookTracer(write)
    undo_monitoring = manager.add_hookcall_monitoring(tracer.before, tracer.after)

    def undo() -> None:
        undo_monitoring()
        _ACTIVE.pop(id(manager), None)

    _ACTIVE[id(manager)] = undo
    return undo
