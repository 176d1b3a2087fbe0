"""Plugin discovery (entry point group ``lepton.plugins``), isolation of broken plugins, and scoped hook calls.

The process-wide manager (``get_plugin_manager``) is cached and never changed by a run: a run (or the
contract kit) works on ``manager.for_run(disabled=..., extra=...)``, a manager of its own with the same
plugins minus the disabled ones plus run-scoped helpers. Every registered plugin is checked for hooks
that no spec declares (a misspelled ``lepton_evalute``): that plugin is refused like one that fails to
import.
"""

from __future__ import annotations

import difflib
import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import metadata
from typing import Any

import pluggy

from lepton_core.errors import ConfigError, PluginError
from lepton_core.hooks import specs
from lepton_core.hooks.markers import PROJECT_NAME

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginManager",
    "PluginRecord",
    "get_plugin_manager",
]

ENTRY_POINT_GROUP = "lepton.plugins"
STRICT_ENV = "LEPTON_STRICT_PLUGINS"
DISABLE_ENV = "LEPTON_DISABLE_PLUGINS"
DEFAULTS_NAME = "lepton.defaults"
SPEC_GROUPS = (specs.DescribeSpecs, specs.DataSpecs, specs.ModelSpecs, specs.DeploySpecs, specs.LifecycleSpecs)
HookMonitor = tuple[Callable[..., None], Callable[..., None]]


@dataclass(frozen=True)
class PluginRecord:
    """One discovered plugin: where it came from, and either its description or why it failed to load."""

    name: str
    distribution: str
    dist_version: str
    target: str
    info: specs.PluginInfo | None = None
    error: str | None = None
    error_detail: str | None = None
    disabled: bool = False

    @property
    def status(self) -> str:
        """'ok', 'disabled' or 'error'."""
        if self.disabled:
            return "disabled"
        return "error" if self.error else "ok"

    @property
    def location(self) -> str:
        """The file the plugin module was loaded from, or its entry point target."""
        import sys

        module = sys.modules.get(self.target.split(":")[0])
        return getattr(module, "__file__", None) or self.target


def _env_names(var: str) -> set[str]:
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


class PluginManager:
    """Lepton's pluggy manager: registers installed plugins and calls hooks of one plugin at a time."""

    def __init__(self, disabled: set[str] | None = None, strict: bool | None = None) -> None:
        self._pm = pluggy.PluginManager(PROJECT_NAME)
        for group in SPEC_GROUPS:
            self._pm.add_hookspecs(group)
        self.strict = os.environ.get(STRICT_ENV, "") not in ("", "0") if strict is None else strict
        self.disabled = _env_names(DISABLE_ENV) | (disabled or set())
        self.records: dict[str, PluginRecord] = {}
        self._plugins: dict[str, Any] = {}  # name -> registered plugin object (described or run-scoped)
        self._monitors: list[HookMonitor] = []
        from lepton_core.hooks import defaults

        self._pm.register(defaults, name=DEFAULTS_NAME)

    # ----------------------------------------------------------------------------------- discovery

    def load_entry_points(self) -> None:
        """Register every plugin of the entry point group; a failing one is recorded with its error."""
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else "?"
            dist_version = dist.version if dist is not None else "?"
            if ep.name in self.disabled:
                self.records[ep.name] = PluginRecord(ep.name, dist_name, dist_version, ep.value, disabled=True)
                continue
            try:
                self.register(ep.load(), ep.name, dist_name, dist_version, ep.value)
            except Exception as exc:  # a broken plugin (import error, misspelled hook...) must not break the others
                if self.strict:
                    raise PluginError(
                        f"plugin '{ep.name}' ({dist_name}) failed to load: {type(exc).__name__}: {exc}",
                        f"fix or uninstall {dist_name}, or unset {STRICT_ENV}",
                    ) from exc
                self.records[ep.name] = PluginRecord(
                    ep.name,
                    dist_name,
                    dist_version,
                    ep.value,
                    error=f"{type(exc).__name__}: {exc}",
                    error_detail=traceback.format_exc(),
                )
        self._pm.check_pending()  # every registered hook implementation has a spec (register checked each)

    def register(
        self,
        plugin: Any,
        name: str,
        distribution: str = "(registered in code)",
        dist_version: str = "?",
        target: str | None = None,
    ) -> PluginRecord:
        """Register a plugin object under ``name`` and check that it describes itself consistently."""
        if name in self.disabled:
            record = PluginRecord(name, distribution, dist_version, target or repr(plugin), disabled=True)
            self.records[name] = record
            return record
        self._pm.register(plugin, name=name)
        try:
            self._check_hooks(plugin, name)
            info = self._describe(plugin, name)
        except Exception:
            self._pm.unregister(name=name)
            raise
        record = PluginRecord(name, distribution, dist_version, target or getattr(plugin, "__name__", name), info)
        self.records[name] = record
        self._plugins[name] = plugin
        return record

    def unregister(self, name: str) -> None:
        """Remove the plugin ``name`` (its hooks and its record); unknown names are ignored."""
        if self._pm.has_plugin(name):
            self._pm.unregister(name=name)
        self.records.pop(name, None)
        self._plugins.pop(name, None)

    def has_plugin(self, name: str) -> bool:
        """True when a plugin of that name is registered (loaded and not disabled)."""
        return name != DEFAULTS_NAME and self._pm.has_plugin(name)

    def for_run(self, disabled: Iterable[str] = (), extra: Mapping[str, Any] | None = None) -> PluginManager:
        """A manager for one run: these plugins minus ``disabled``, plus ``extra`` (name -> an object with
        lifecycle hooks, such as a recorder; no ``lepton_describe`` needed), and the same hook-call monitors
        (``--trace``). This manager is left as it is."""
        disabled = set(disabled)
        scoped = PluginManager(disabled=self.disabled | disabled, strict=self.strict)
        for name, record in self.records.items():
            if name in disabled and record.info is not None:
                record = replace(record, disabled=True)
            scoped.records[name] = record
        for name, plugin in self._plugins.items():
            if name not in disabled:
                scoped._pm.register(plugin, name=name)
                scoped._plugins[name] = plugin
        for name, plugin in (extra or {}).items():
            scoped._pm.register(plugin, name=name)
            try:
                scoped._check_hooks(plugin, name)
            except PluginError:
                scoped._pm.unregister(name=name)
                raise
            scoped._plugins[name] = plugin
        for before, after in self._monitors:
            scoped.add_hookcall_monitoring(before, after)
        return scoped

    def add_hookcall_monitoring(
        self, before: Callable[..., None], after: Callable[..., None]
    ) -> Callable[[], None]:
        """Call ``before``/``after`` around every hook call (pluggy's monitoring, kept by ``for_run``); return undo."""
        monitor = (before, after)
        self._monitors.append(monitor)
        undo_pluggy = self._pm.add_hookcall_monitoring(before, after)

        def undo() -> None:
            undo_pluggy()
            if monitor in self._monitors:
                self._monitors.remove(monitor)

        return undo

    def _check_hooks(self, plugin: Any, name: str) -> None:
        """Refuse a plugin with a hook implementation that no spec declares (a misspelled hook name)."""
        for caller in self._pm.get_hookcallers(plugin) or []:
            if caller.has_spec():
                continue
            if any(impl.optionalhook for impl in caller.get_hookimpls() if impl.plugin is plugin):
                continue
            hooks = [n for n, c in vars(self._pm.hook).items() if c.has_spec()]
            raise PluginError(
                f"plugin '{name}' implements unknown hook '{caller.name}'{_did_you_mean(caller.name, hooks)}",
                "rename it to a hook of lepton_core.hooks.specs (`lepton --trace run ...` shows the calls)",
            )

    def _describe(self, plugin: Any, name: str) -> specs.PluginInfo:
        impl = getattr(plugin, "lepton_describe", None)
        if impl is None:
            raise PluginError(f"plugin '{name}' does not implement lepton_describe", "add a lepton_describe hook")
        info = impl()
        if not isinstance(info, specs.PluginInfo):
            raise PluginError(f"plugin '{name}': lepton_describe returned {type(info).__name__}, not PluginInfo")
        if info.name != name:
            raise PluginError(
                f"plugin registered as '{name}' describes itself as '{info.name}'",
                "make the entry point name equal PluginInfo.name",
            )
        if info.contract_version.split(".")[0] != specs.CONTRACT_VERSION.split(".")[0]:
            raise PluginError(
                f"plugin '{name}' targets contract {info.contract_version}, lepton-core has {specs.CONTRACT_VERSION}",
                "install a version of the plugin built for this lepton-core",
            )
        if info.lifecycle_only:
            if info.default_task or info.config_package:
                raise PluginError(
                    f"plugin '{name}' declares no task but sets a default task or a config package",
                    "add its TaskInfo entries, or leave default_task and config_package empty (lifecycle plugin)",
                )
            return info
        if info.default_task not in info.task_names():
            raise PluginError(f"plugin '{name}': default task '{info.default_task}' is not among its tasks")
        if not info.config_package:
            raise PluginError(f"plugin '{name}' declares tasks but no config_package", "set PluginInfo.config_package")
        return info

    # ----------------------------------------------------------------------------------- queries

    def loaded(self) -> dict[str, specs.PluginInfo]:
        """Descriptions of the task plugins that loaded (those a run can select), by name."""
        return {
            n: r.info for n, r in sorted(self.records.items())
            if r.info is not None and not r.disabled and not r.info.lifecycle_only
        }

    def lifecycle_plugins(self) -> dict[str, specs.PluginInfo]:
        """Descriptions of the lifecycle plugins that loaded (no tasks: they serve every run), by name."""
        return {
            n: r.info for n, r in sorted(self.records.items())
            if r.info is not None and not r.disabled and r.info.lifecycle_only
        }

    def resolve(self, plugin: str | None, task: str | None = None) -> tuple[specs.PluginInfo, str]:
        """Check a plugin and task name; an unknown one raises ConfigError listing what is installed."""
        loaded = self.loaded()
        if not plugin:
            raise ConfigError(
                "no plugin selected",
                f"add plugin=NAME; installed: {', '.join(loaded) or 'none (pip install a Lepton plugin)'}",
            )
        if plugin not in loaded:
            record = self.records.get(plugin)
            if record is not None and record.status == "error":
                raise PluginError(f"plugin '{plugin}' failed to load: {record.error}", "run `lepton plugins`")
            if record is not None and record.disabled:
                raise ConfigError(f"plugin '{plugin}' is disabled", f"remove it from {DISABLE_ENV}")
            if record is not None and record.info is not None and record.info.lifecycle_only:
                raise ConfigError(
                    f"plugin '{plugin}' is a lifecycle plugin: it offers no task and serves every run",
                    _installed(loaded),
                )
            raise ConfigError(f"unknown plugin '{plugin}'{_did_you_mean(plugin, loaded)}", _installed(loaded))
        info = loaded[plugin]
        task = task or info.default_task
        if task not in info.task_names():
            raise ConfigError(
                f"unknown task '{task}' for plugin '{plugin}'{_did_you_mean(task, info.task_names())}",
                f"use one of: {', '.join(info.task_names())}",
            )
        return info, task

    def call(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """Call a data/model/deploy hook on one plugin only (and the core's trylast defaults)."""
        others = [p for n, p in self._pm.list_name_plugin() if n not in (plugin, DEFAULTS_NAME)]
        caller = self._pm.subset_hook_caller(hook, remove_plugins=others)
        return caller(**kwargs)

    @property
    def hook(self) -> Any:
        """All plugins' hooks (lifecycle hooks are broadcast)."""
        return self._pm.hook


def _did_you_mean(name: str, choices: Any) -> str:
    match = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _installed(loaded: dict[str, specs.PluginInfo]) -> str:
    if not loaded:
        return "no plugin is installed; pip install one (e.g. pip install -e plugins/finance)"
    return "choose an installed plugin: " + "; ".join(f"{n} (tasks: {', '.join(i.task_names())})" for n, i in loaded.items())


@cache
def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager with every installed plugin loaded."""
    manager = PluginManager()
    manager.load_entry_points()
    return manager
