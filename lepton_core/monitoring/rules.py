"""Alert rules from YAML, parsed by a small grammar of our own (nothing is evaluated as Python).

A rules file is a list of rules, or a mapping with ``rules`` and an optional ``window`` (``size``,
``min_samples``)::

    window: {size: 200, min_samples: 100}
    rules:
      - name: input drift
        when: psi > 0.25
        for: 3 windows
      - name: auc drop
        when: live_auc < test_auc - 0.05

``when`` is ``SUM OP SUM`` with OP one of ``< <= > >= == !=``; a SUM is terms joined by ``+`` and ``-``;
a term is a number or a name: ``psi`` / ``ks`` (the largest over the input features), ``psi[FEATURE]``,
``ks[FEATURE]``, ``ks_p[FEATURE]``, ``chi2_p[FEATURE]``, ``prediction_psi``, ``prediction_ks``,
``residual_ks``, ``latency_p50_s``, ``latency_p99_s``, ``rate_per_s``, ``count``, ``labelled``,
``live_METRIC`` and ``test_METRIC`` (``auc`` is ``roc_auc``). A rule holds in a window when every name
has a value there ("not enough data" never holds); it fires at the window where it has held for ``for``
consecutive windows (default 1).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.errors import ConfigError
from lepton_core.monitoring.profile import MonitorProfile
from lepton_core.monitoring.windows import WindowSpec

__all__ = ["DEFAULT_RULES", "Rule", "RuleSet", "evaluate_rules", "load_rules", "parse_rules"]

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
}
WINDOW_VALUES = ("psi", "ks", "prediction_psi", "prediction_ks", "residual_ks", "latency_p50_s", "latency_p99_s",
                 "rate_per_s", "count", "labelled")
FEATURE_VALUES = ("psi", "ks", "ks_p", "chi2_p")
ALIASES = {"auc": "roc_auc"}
TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                   r"(?:\[(?P<feature>[^\]]+)\])?|(?P<op><=|>=|==|!=|<|>)|(?P<sign>[-+]))")
FOR = re.compile(r"^\s*(\d+)\s*(?:windows?)?\s*$")
MAX_RULES = 100
MAX_EXPRESSION = 500
DEFAULT_RULES = """\
rules:
  - name: input drift
    when: psi > 0.25
    for: 3 windows
  - name: prediction drift
    when: prediction_psi > 0.25
    for: 3 windows
"""
"""Used when `lepton monitor` gets no --rules: drift rules only (live-metric rules need the task's metric)."""

Term = tuple[int, float | tuple[str, str | None]]  # (+1 or -1, a number or (name, feature))


@dataclass(frozen=True)
class Rule:
    """One parsed rule: a comparison of two sums of terms, held for ``windows`` consecutive windows."""

    name: str
    when: str
    left: tuple[Term, ...]
    op: str
    right: tuple[Term, ...]
    windows: int = 1

    def names(self) -> list[tuple[str, str | None]]:
        """The (name, feature) pairs the rule reads."""
        return [t for _, t in (*self.left, *self.right) if isinstance(t, tuple)]


@dataclass(frozen=True)
class RuleSet:
    """The rules of a file and the window they are evaluated on."""

    rules: tuple[Rule, ...]
    window: WindowSpec


def _problem(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}", "see docs/monitoring.md for the rules grammar")


def _parse_expression(text: str, where: str) -> tuple[tuple[Term, ...], str, tuple[Term, ...]]:
    if len(text) > MAX_EXPRESSION:
        raise _problem(where, f"'when' is longer than {MAX_EXPRESSION} characters")
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _problem(where, f"cannot read '{text[position:].strip()[:30]}' in '{text}'")
        tokens.append(match)
        position = match.end()
    ops = [i for i, t in enumerate(tokens) if t["op"]]
    if len(ops) != 1:
        raise _problem(where, f"'{text}' needs exactly one comparison (<, <=, >, >=, ==, !=)")
    sides = (tokens[: ops[0]], tokens[ops[0] + 1 :])

    def side(part: list[re.Match[str]]) -> tuple[Term, ...]:
        terms: list[Term] = []
        sign, expect_term = 1, True
        for token in part:
            if token["sign"]:
                if expect_term:
                    raise _problem(where, f"'{text}': two signs in a row or a leading sign")
                sign, expect_term = (1 if token["sign"] == "+" else -1), True
                continue
            if not expect_term:
                raise _problem(where, f"'{text}': two values without + or - between them")
            value = float(token["number"]) if token["number"] else (token["name"], token["feature"])
            terms.append((sign, value))
            expect_term = False
        if expect_term:
            raise _problem(where, f"'{text}': a side of the comparison is empty or ends with a sign")
        return tuple(terms)

    return side(sides[0]), tokens[ops[0]]["op"], side(sides[1])


def _check_name(name: str, feature: str | None, profile: MonitorProfile, where: str) -> None:
    if feature is not None:
        if name not in FEATURE_VALUES:
            raise _problem(where, f"'{name}[...]' is unknown; per feature: {', '.join(FEATURE_VALUES)}")
        if feature not in profile.features:
            raise _problem(where, f"feature '{feature}' is not monitored; known: {', '.join(profile.features) or 'none'}")
        return
    if name in WINDOW_VALUES:
        return
    prefix, _, metric = name.partition("_")
    metric = ALIASES.get(metric, metric)
    if prefix == "live" and metric in profile.live_metrics:
        return
    if prefix == "test" and (profile.test_metric(metric) is not None):
        return
    known = [*WINDOW_VALUES, *(f"live_{m}" for m in profile.live_metrics), *(f"test_{m}" for m in profile.test_metrics)]
    raise _problem(where, f"'{name}' is unknown for this bundle; known: {', '.join(known)}")


def parse_rules(text: str, profile: MonitorProfile, source: str = "rules") -> RuleSet:
    """Parse and check a rules YAML document against a bundle's profile; any problem is one ConfigError."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _problem(source, f"not valid YAML ({getattr(exc, 'problem', exc)}{f', line {mark.line + 1}' if mark else ''})") from None
    window = WindowSpec()
    if isinstance(data, dict):
        unknown = set(data) - {"rules", "window"}
        if unknown:
            raise _problem(source, f"unknown key(s) {', '.join(map(str, sorted(unknown)))}; use 'rules' and 'window'")
        spec = data.get("window") or {}
        if not isinstance(spec, dict) or set(spec) - {"size", "min_samples"} or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in spec.values()
        ):
            raise _problem(source, "'window' takes positive integers 'size' and 'min_samples'")
        size = spec.get("size", WindowSpec.size)
        try:
            window = WindowSpec(size, spec.get("min_samples", min(WindowSpec.min_samples, size)))
        except ConfigError as exc:
            raise _problem(source, exc.problem) from None
        data = data.get("rules")
    if not isinstance(data, list) or not data or len(data) > MAX_RULES:
        raise _problem(source, f"expected a list of 1 to {MAX_RULES} rules")
    rules = []
    for index, entry in enumerate(data):
        where = f"{source} rule {index + 1}"
        if not isinstance(entry, dict) or set(entry) - {"name", "when", "for"} or "when" not in entry:
            raise _problem(where, "a rule is a mapping with 'when' (and optional 'name', 'for')")
        if not isinstance(entry["when"], str):
            raise _problem(where, "'when' must be text such as 'psi > 0.25'")
        name = str(entry.get("name", entry["when"]))[:100]
        held = FOR.match(str(entry.get("for", 1)))
        if held is None or int(held[1]) < 1:
            raise _problem(where, f"'for: {entry.get('for')}' is not a count of windows such as '3 windows'")
        left, op, right = _parse_expression(entry["when"], where)
        rule = Rule(name, entry["when"].strip(), left, op, right, int(held[1]))
        for term_name, feature in rule.names():
            _check_name(term_name, feature, profile, where)
        rules.append(rule)
    return RuleSet(tuple(rules), window)


def load_rules(path: str | Path | None, profile: MonitorProfile) -> RuleSet:
    """Rules from a YAML file (DEFAULT_RULES without one); an unreadable or bad file is one ConfigError."""
    if path is None:
        return parse_rules(DEFAULT_RULES, profile, "default rules")
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the rules file {path} ({exc.__class__.__name__})", "pass a readable YAML file") from None
    return parse_rules(text, profile, str(path))


def _value(term: float | tuple[str, str | None], window: Mapping[str, Any], profile: MonitorProfile) -> float | None:
    if not isinstance(term, tuple):
        return term
    name, feature = term
    if feature is not None:
        stats = window["features"].get(feature)
        return stats.get(name) if stats else None
    prefix, _, metric = name.partition("_")
    metric = ALIASES.get(metric, metric)
    if prefix == "live" and metric in profile.live_metrics:
        return window["live"].get(metric)
    if prefix == "test" and name not in WINDOW_VALUES:
        return profile.test_metric(metric)
    return window.get(name)


def _sum(terms: Sequence[Term], window: Mapping[str, Any], profile: MonitorProfile) -> float | None:
    total = 0.0
    for sign, term in terms:
        value = _value(term, window, profile)
        if value is None:
            return None
        total += sign * value
    return total


def evaluate_rules(rules: RuleSet, windows: Sequence[Mapping[str, Any]], profile: MonitorProfile) -> list[dict[str, Any]]:
    """Per rule: the windows where it holds, where it is firing (held ``for`` windows), and its first firing."""
    results = []
    for rule in rules.rules:
        held, firing, streak = [], [], 0
        for window in windows:
            left, right = _sum(rule.left, window, profile), _sum(rule.right, window, profile)
            holds = left is not None and right is not None and COMPARISONS[rule.op](left, right)
            streak = streak + 1 if holds else 0
            if holds:
                held.append(window["index"])
            if streak >= rule.windows:
                firing.append(window["index"])
        results.append({
            "name": rule.name, "when": rule.when, "for": rule.windows, "held": held, "firing": firing,
            "fired_at": firing[0] if firing else None,
        })
    return results
