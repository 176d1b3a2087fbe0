"""Reading a bundle's JSON and YAML as inert data: no tags, no aliases, no interpolations, no duplicate keys.

Everything in a bundle may come from a stranger, so its files are read as plain values only (JSON
scalars, lists and string-keyed dicts); anything else is refused with a BundleError.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from lepton_core.errors import BundleError, LeptonError

__all__ = ["INSTANTIATION_KEYS", "check_plain", "parse_json", "parse_yaml", "without_instantiation_keys"]

INSTANTIATION_KEYS = frozenset({"_target_", "_args_", "_partial_", "_recursive_", "_convert_"})  # Hydra's

REBUILD = "rebuild the bundle with `lepton run`"
MAX_DEPTH = 64
_FLOAT = re.compile(  # YAML 1.2 floats, as OmegaConf reads them (PyYAML's YAML 1.1 reads 1e-3 as a string)
    r"""^(?:[-+]?[0-9]+(?:_[0-9]+)*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)
    |\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


def check_plain(
    value: Any, where: str, error: type[LeptonError] = BundleError, fix: str = REBUILD, interpolations: bool = False
) -> Any:
    """Return ``value`` if it is plain JSON data (finite numbers, no ``${...}`` unless allowed); else raise ``error``."""

    def walk(node: Any, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise error(f"{where} nests deeper than {MAX_DEPTH} levels at {path or 'the top'}", fix)
        if node is None or isinstance(node, bool | int):
            return
        if isinstance(node, float):
            if not math.isfinite(node):
                raise error(f"{where} holds a non-finite number at {path or 'the top'}", fix)
            return
        if isinstance(node, str):
            if not interpolations and "${" in node:
                raise error(f"{where} holds an interpolation '${{...}}' at {path or 'the top'} (bundles are resolved)", fix)
            return
        if isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}[{index}]", depth + 1)
            return
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    raise error(f"{where} has a non-string key {key!r} at {path or 'the top'}", fix)
                if not interpolations and "${" in key:
                    raise error(f"{where} has an interpolation in the key '{key}'", fix)
                if key in INSTANTIATION_KEYS:
                    raise error(f"{where} names code to instantiate ('{key}' at {path or 'the top'})", fix)
                walk(item, f"{path}.{key}" if path else key, depth + 1)
            return
        raise error(f"{where} holds a {type(node).__name__} at {path or 'the top'}, not plain JSON data", fix)

    walk(value, "", 0)
    return value


def without_instantiation_keys(value: Any) -> Any:
    """``value`` with Hydra's instantiation keys (``_target_``...) removed at every level: a bundle names no code."""
    if isinstance(value, dict):
        return {k: without_instantiation_keys(v) for k, v in value.items() if k not in INSTANTIATION_KEYS}
    if isinstance(value, list):
        return [without_instantiation_keys(v) for v in value]
    return value


def _unique_pairs(where: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise BundleError(f"{where} repeats the key '{key}'", REBUILD)
            result[key] = value
        return result

    return build


def _no_constant(where: str) -> Callable[[str], Any]:
    def refuse(name: str) -> Any:
        raise BundleError(f"{where} holds the non-JSON constant {name}", REBUILD)

    return refuse


def parse_json(data: bytes, where: str) -> Any:
    """Strict JSON of a bundle file: UTF-8, no duplicate keys, no NaN/Infinity, plain values only."""
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_unique_pairs(where), parse_constant=_no_constant(where))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BundleError(f"{where} is not valid JSON ({str(exc).splitlines()[0][:200]})", REBUILD) from None
    return check_plain(value, where, interpolations=True)


def _loader() -> type:
    import yaml

    class BundleYamlLoader(yaml.SafeLoader):
        """SafeLoader without aliases, duplicate keys or timestamps; YAML 1.2 floats."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("anchors and aliases are not allowed in a bundle")
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            keys = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in keys:
                        raise yaml.YAMLError(f"duplicate key '{key_node.value}'")
                    keys.add(key_node.value)
            return super().construct_mapping(node, deep=deep)

    BundleYamlLoader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    BundleYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
    return BundleYamlLoader


def parse_yaml(data: bytes, where: str) -> Any:
    """YAML of a bundle file as plain data: safe tags only, no aliases, no duplicate keys, no ``${...}``."""
    import yaml

    try:
        value = yaml.load(data.decode("utf-8"), Loader=_loader())  # a SafeLoader subclass
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None) or str(exc)
        reason = " ".join((f"{problem}, line {mark.line + 1}" if mark else str(problem)).split())[:200]
        raise BundleError(f"{where} is not valid bundle YAML ({reason})", REBUILD) from None
    return check_plain(value, where)
