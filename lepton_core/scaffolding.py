"""`lepton new plugin`: render the templates under ``lepton_core/scaffold/plugin/`` into a new plugin package.

The templates are data files (``*.tmpl``, rendered with Jinja2), not modules. Path parts ``__package__``,
``__plugin__`` and ``__task__`` become the package (``lepton_<name>``), the plugin and the task names. The
demo dataset (``demo_data.csv``) is generated here, deterministically.
"""

from __future__ import annotations

import keyword
import random
import re
import shutil
from dataclasses import dataclass
from importlib import resources, util
from pathlib import Path

from lepton_core.errors import ConfigError

__all__ = ["PluginNames", "check_names", "create_plugin", "demo_rows"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
TEMPLATE_SUFFIX = ".tmpl"
DEMO_ROWS = 1000
DEMO_FEATURES = ("x1", "x2", "x3", "x4")


@dataclass(frozen=True)
class PluginNames:
    """Every name a new plugin needs, derived from its plugin name and first task."""

    plugin: str
    task: str

    @property
    def package(self) -> str:
        """The import package, e.g. ``lepton_my_plugin``."""
        return f"lepton_{self.plugin}"

    @property
    def distribution(self) -> str:
        """The pip distribution, e.g. ``lepton-my-plugin``."""
        return "lepton-" + self.plugin.replace("_", "-")

    @property
    def class_prefix(self) -> str:
        """CamelCase prefix of the plugin's classes, e.g. ``MyPlugin``."""
        return "".join(part.capitalize() for part in self.plugin.split("_") if part)


def _check_identifier(kind: str, name: str) -> None:
    if not NAME_PATTERN.match(name) or keyword.iskeyword(name):
        raise ConfigError(
            f"{kind} name '{name}' is not a lowercase Python identifier",
            "use lowercase letters, digits and underscores, starting with a letter (e.g. churn_model)",
        )


def check_names(plugin: str, task: str, target: Path) -> PluginNames:
    """Refuse a name that is not an identifier, is already installed, or whose directory exists."""
    _check_identifier("plugin", plugin)
    _check_identifier("task", task)
    names = PluginNames(plugin, task)
    from lepton_core.hooks.manager import get_plugin_manager

    record = get_plugin_manager().records.get(plugin)
    if record is not None:
        raise ConfigError(
            f"a plugin named '{plugin}' is already installed ({record.distribution} {record.dist_version})",
            "choose another name (see `lepton plugins`)",
        )
    if util.find_spec(names.package) is not None:
        raise ConfigError(
            f"a package named '{names.package}' is already installed", "choose another plugin name"
        )
    if target.exists():
        raise ConfigError(
            f"{target} already exists", "choose another name or --dir, or remove that directory"
        )
    return names


def demo_rows(n_rows: int = DEMO_ROWS, seed: int = 0) -> list[dict[str, float]]:
    """A deterministic demo table: four features, a 0/1 label with a non-linear boundary and label noise."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n_rows):
        x1, x2, x3, x4 = (rng.gauss(0.0, 1.0) for _ in DEMO_FEATURES)
        logit = 1.8 * x1 * x2 + 1.2 * x3 - 0.9 * x4 * x4 + 0.6 + rng.gauss(0.0, 0.8)
        rows.append({"x1": x1, "x2": x2, "x3": x3, "x4": x4, "label": int(logit > 0)})
    return rows


def _write_demo_csv(path: Path) -> None:
    columns = [*DEMO_FEATURES, "label"]
    lines = [",".join(columns)]
    for row in demo_rows():
        lines.append(",".join(f"{row[c]:.4f}" for c in DEMO_FEATURES) + f",{row['label']}")
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _render_path(relative: str, names: PluginNames) -> str:
    replacements = {"__package__": names.package, "__plugin__": names.plugin, "__task__": names.task}
    for token, value in replacements.items():
        relative = relative.replace(token, value)
    return relative.removesuffix(TEMPLATE_SUFFIX)


def create_plugin(plugin: str, task: str = "classify", directory: Path | None = None) -> Path:
    """Write a pip-installable plugin package ``<directory>/<plugin>`` and return its path."""
    import jinja2

    import lepton_core

    target = (directory or Path.cwd()) / plugin
    names = check_names(plugin, task, target)
    variables = {
        "plugin": names.plugin,
        "task": names.task,
        "package": names.package,
        "distribution": names.distribution,
        "class_prefix": names.class_prefix,
        "summary": f"Lepton plugin {names.plugin}: binary classification of tabular rows.",
        "lepton_version": lepton_core.__version__,
        "demo_rows": DEMO_ROWS,
        "features": DEMO_FEATURES,
    }
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    root = resources.files("lepton_core") / "scaffold" / "plugin"
    staged = target.with_name(f".{plugin}.creating")
    shutil.rmtree(staged, ignore_errors=True)
    try:
        with resources.as_file(root) as template_dir:
            for source in sorted(template_dir.rglob(f"*{TEMPLATE_SUFFIX}")):
                destination = staged / _render_path(source.relative_to(template_dir).as_posix(), names)
                destination.parent.mkdir(parents=True, exist_ok=True)
                text = environment.from_string(source.read_text("utf-8")).render(variables)
                destination.write_text(text, "utf-8")
        _write_demo_csv(staged / names.package / "demo_data.csv")
        staged.rename(target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return target
