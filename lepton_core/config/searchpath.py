"""Hydra search path plugin: adds the config package of every loaded Lepton plugin to Hydra's search path.

Registered explicitly by the entry module (not discovered through the ``hydra_plugins`` namespace, which
editable installs do not expose reliably). Plugin configs are namespaced: a plugin ships
``plugin/<name>.yaml`` and ``task/<name>/<task>.yaml`` only, so two plugins cannot shadow each other.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin


def plugin_search_path() -> list[tuple[str, str]]:
    """(provider, ``pkg://`` path) for each loaded plugin's config package."""
    from lepton_core.hooks.manager import get_plugin_manager

    return [
        (f"lepton-{name}", f"pkg://{info.config_package}")
        for name, info in get_plugin_manager().loaded().items()
    ]


class LeptonSearchPathPlugin(SearchPathPlugin):
    """Appends ``pkg://<config_package>`` for each Lepton plugin that loaded (describe hooks only)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        """Add every loaded plugin's config package after the core's configs."""
        for provider, path in plugin_search_path():
            search_path.append(provider=provider, path=path)


def register_search_path_plugin() -> None:
    """Make Hydra use LeptonSearchPathPlugin (idempotent)."""
    plugins = Plugins.instance()
    if LeptonSearchPathPlugin not in plugins.discover(SearchPathPlugin):
        plugins.register(LeptonSearchPathPlugin)
