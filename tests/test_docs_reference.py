"""The reference pages follow the code: hooks, CLI commands and options, exit codes, config options."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from lepton_core.cli import app
from lepton_core.errors import EXIT_CODES
from lepton_core.hooks import specs

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# Pages written by the docs engineer; vertical pages, serving.md and bundle-format.md have their own authors.
OWN_PAGES = [
    "index.md",
    "getting-started.md",
    "concepts/hooks.md",
    "concepts/configs.md",
    "concepts/runs.md",
    "concepts/bundles.md",
    "writing-a-plugin.md",
    "contract-kit.md",
    "cli.md",
    "errors.md",
    "architecture.md",
]


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        found.append((path, command))
        found += _commands(command, path)
    return found


def test_every_hook_is_documented() -> None:
    page = (DOCS / "concepts" / "hooks.md").read_text()
    groups = (specs.DescribeSpecs, specs.DataSpecs, specs.ModelSpecs, specs.DeploySpecs, specs.LifecycleSpecs)
    hooks = [name for group in groups for name in vars(group) if name.startswith("lepton_")]
    assert len(hooks) == 10
    missing = [h for h in hooks if f"`{h}(" not in page]
    assert not missing, f"concepts/hooks.md lacks {missing}"
    for stage in specs.STAGES:
        assert f"`{stage}`" in (DOCS / "concepts" / "runs.md").read_text()


def test_every_command_and_option_is_in_the_cli_reference() -> None:
    page = (DOCS / "cli.md").read_text()
    root = typer.main.get_command(app)
    assert "`--trace`" in page and "`--debug`" in page and "`--version`" in page
    commands = _commands(root)
    assert {"run", "config", "plugins", "tasks", "new", "plugin"} <= {p[-1] for p, _ in commands}
    for path, command in commands:
        if getattr(command, "commands", None):
            continue
        assert f"### `lepton {' '.join(path)}`" in page, f"cli.md has no section for lepton {' '.join(path)}"
        for param in command.params:
            if param.param_type_name == "option" and "--help" not in param.opts:
                assert param.opts[0] in page, (
                    f"cli.md does not mention {param.opts[0]} of lepton {' '.join(path)}"
                )


def test_every_exit_code_is_documented() -> None:
    page = (DOCS / "errors.md").read_text()
    for kind, code in EXIT_CODES.items():
        assert re.search(rf"^\| {code} \| {kind} \|", page, re.MULTILINE), (
            f"errors.md lacks exit code {code} ({kind})"
        )


def test_every_core_config_option_is_documented() -> None:
    page = (DOCS / "concepts" / "configs.md").read_text()
    configs = ROOT / "configs"
    for option in sorted(configs.glob("*/**/*.yaml")):
        group = option.parent.relative_to(configs).as_posix()
        assert f"`{group}`" in page, f"concepts/configs.md lacks the group {group}"
        assert f"`{option.stem}`" in page, f"concepts/configs.md lacks {group}={option.stem}"


@pytest.mark.parametrize("page", OWN_PAGES)
def test_commands_in_examples_exist(page: str) -> None:
    root = typer.main.get_command(app)
    names = {" ".join(path) for path, _ in _commands(root)}
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```(?:bash|text)[^\n]*\n(.*?)```", text, re.DOTALL)
    used = re.findall(
        r"(?:^|&& |\.venv/bin/)lepton(?: --\w+)* ([a-z]+(?: [a-z]+)?)", "\n".join(blocks), re.MULTILINE
    )
    assert all(u in names or u.split()[0] in names for u in used), (page, used)
    for link in re.findall(r"\]\(([^)#]+\.md)", text):
        assert (DOCS / page).parent.joinpath(link).resolve().is_relative_to(DOCS.resolve()), link


def test_vertical_table_on_the_home_page_lists_installed_tasks() -> None:
    from lepton_core.hooks.manager import get_plugin_manager

    rows = re.findall(r"^\| `(\w+)` \| ([\w, ]+) \| \[", (DOCS / "index.md").read_text(), re.MULTILINE)
    assert [name for name, _ in rows] == ["finance", "medical_imaging", "manufacturing", "retail", "logistics"]
    loaded = get_plugin_manager().loaded()
    for name, tasks in rows:
        if name in loaded:
            assert tasks.split(", ") == loaded[name].task_names(), f"index.md lists other tasks for {name}"
