"""`lepton monitor`: windowed figures of a prediction log, the rules that fired, an HTML report, retraining data.

The logged and labelled predictions are written in the task's input format where that is possible: a
table (the logged input columns plus the label under the task's target column) for table bundles, a
long series table (id, date, value: the histories sent plus the labelled actuals) for forecasts. Image
bundles log base64 images (possibly truncated), so they print what to do instead.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lepton_core.atomic import atomic_path, atomic_write_text
from lepton_core.errors import DataError
from lepton_core.monitoring.log import read_log
from lepton_core.monitoring.profile import FORECAST, MonitorProfile, load_profile
from lepton_core.monitoring.rules import evaluate_rules, load_rules
from lepton_core.monitoring.windows import analyze, join_labels

__all__ = ["MonitorResult", "export_labelled", "monitor_log", "write_report"]


@dataclass
class MonitorResult:
    """What `lepton monitor` found: the windows, the rules and when they fired, the export and its command."""

    profile: MonitorProfile
    windows: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    n_predictions: int
    n_labelled: int
    other_versions: int
    report: Path
    export: Path | None
    retrain: str

    @property
    def fired(self) -> list[dict[str, Any]]:
        """Rules that fired, by the window where they first fired."""
        return sorted((r for r in self.rules if r["fired_at"] is not None), key=lambda r: r["fired_at"])


def _config_value(cfg: Any, key: str, default: Any = None) -> Any:
    data = cfg.get("data") if cfg is not None else None
    return data.get(key, default) if data is not None else default


def export_labelled(
    records: Sequence[Mapping[str, Any]], labels: Mapping[tuple[str, int], Any], profile: MonitorProfile,
    manifest: Mapping[str, Any], cfg: Any, path: Path,
) -> tuple[Path | None, str]:
    """Write the labelled predictions in the task's input format; (file or None, the command or advice)."""
    import pandas as pd

    labelled = [(r, labels[(str(r.get("request_id")), int(r.get("item") or 0))]) for r in records
                if (str(r.get("request_id")), int(r.get("item") or 0)) in labels]
    command = f"lepton run plugin={profile.plugin} task={profile.task}"
    if not labelled:
        return None, f"no logged prediction has a label yet: send labels to POST /feedback, then {command} data.path=..."
    if manifest.get("input_kind") == "table":
        target = _config_value(cfg, "target")
        column = target if isinstance(target, str) and target else "label"
        frame = pd.DataFrame([{**r["inputs"], column: label} for r, label in labelled if isinstance(r.get("inputs"), dict)])
        override = f" data.target={column}" if cfg is not None and "target" in (cfg.get("data") or {}) else ""
    elif profile.kind == FORECAST:
        ids, times, values = (_config_value(cfg, k, d) for k, d in (("id_col", "unique_id"), ("time_col", "ds"), ("target_col", "y")))
        rows: dict[tuple[str, str], float] = {}
        for record, label in labelled:
            inputs, outputs = record.get("inputs") or {}, record.get("outputs") or {}
            series = str(inputs.get("unique_id", "series"))
            for stamp, value in zip(inputs.get("ds", []), inputs.get("y", []), strict=False):
                rows[(series, str(stamp))] = value
            for stamp, value in zip(outputs.get("ds", []), label, strict=False):
                rows[(series, str(stamp))] = value
        frame = pd.DataFrame([{ids: s, times: t, values: v} for (s, t), v in sorted(rows.items())])
        override = ""
    else:
        return None, (
            f"{len(labelled)} labelled predictions, but {manifest.get('input_kind')} inputs cannot be turned back into "
            f"the task's training data (images are logged base64, possibly truncated): add the labelled originals to "
            f"your data set and run {command} data.path=YOUR_DATA"
        )
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False) if path.suffix == ".parquet" else frame.to_csv(tmp, index=False)
    return path, f"{command} data.path={path.resolve()}{override}"


def _figure(plot: Any, title: str, windows: Sequence[Mapping[str, Any]], firing: Sequence[int]) -> str:
    """One matplotlib figure as an inline <img> (the report is a single file), rule-firing windows shaded."""
    from lepton_core.report.figures import new_figure

    fig, ax = new_figure(7.0, 3.0)
    plot(ax, [w["index"] for w in windows])
    for index in firing:
        ax.axvspan(index - 0.5, index + 0.5, color="#d62728", alpha=0.08)
    ax.set_title(title)
    ax.set_xlabel("window")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="{html.escape(title)}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _line(ax: Any, xs: list[int], ys: list[Any], label: str, **style: Any) -> None:
    ax.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", markersize=3, label=label, **style)


def write_report(result: MonitorResult) -> Path:
    """The monitoring report: rules, drift, volume, latency and live-metric plots; written atomically."""
    windows, profile = result.windows, result.profile
    firing = sorted({i for r in result.rules for i in r["firing"]})

    def drift(ax: Any, xs: list[int]) -> None:
        for feature in profile.features:
            _line(ax, xs, [(w["features"].get(feature) or {}).get("psi") for w in windows], feature)
        _line(ax, xs, [w["prediction_psi"] for w in windows], "predictions", linestyle="--", color="black")
        ax.axhline(0.25, color="#d62728", linewidth=0.8, linestyle=":")
        ax.set_ylabel("PSI")

    def volume(ax: Any, xs: list[int]) -> None:
        _line(ax, xs, [w["rate_per_s"] for w in windows], "predictions / s")
        ax.set_ylabel("per second")

    def latency(ax: Any, xs: list[int]) -> None:
        for key in ("latency_p50_s", "latency_p99_s"):
            _line(ax, xs, [w[key] for w in windows], key.split("_")[1])
        ax.set_ylabel("seconds")

    def live(metric: str) -> Any:
        def plot(ax: Any, xs: list[int]) -> None:
            _line(ax, xs, [w["live"].get(metric) for w in windows], f"live {metric}")
            if (test := profile.test_metric(metric)) is not None:
                ax.axhline(test, color="#555", linestyle="--", label=f"test {metric}")
        return plot

    images = [
        _figure(drift, "Input and prediction drift (PSI; dotted: 0.25)", windows, firing),
        _figure(volume, "Volume", windows, firing),
        _figure(latency, "Latency (arrival to prediction)", windows, firing),
        *(_figure(live(m), f"Live {m}", windows, firing) for m in profile.live_metrics),
    ]
    rule_rows = "".join(
        f"<tr><td>{html.escape(r['name'])}</td><td><code>{html.escape(r['when'])}</code></td><td>{r['for']}</td>"
        f"<td>{'window ' + str(r['fired_at']) if r['fired_at'] is not None else 'no'}</td></tr>"
        for r in result.rules
    )
    metric_rows = "".join(
        f"<tr><td>{m}</td><td>{_fmt(profile.test_metric(m))}</td><td>{_fmt(_last(windows, m))}</td></tr>"
        for m in profile.live_metrics
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Monitoring · {html.escape(profile.plugin)} / {html.escape(profile.task)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1000px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}} img{{max-width:100%}} .fired{{color:#b00}}</style>
</head><body><h1>Monitoring · {html.escape(profile.plugin)} / {html.escape(profile.task)}</h1>
<p>Model version {profile.model_version}: {result.n_predictions} logged predictions ({result.n_labelled} labelled)
in {len(windows)} windows of {_window_text(result)}; {result.other_versions} predictions of other model versions ignored.</p>
<h2 class="{'fired' if result.fired else ''}">Rules: {len(result.fired)} of {len(result.rules)} fired</h2>
<table><tr><th>rule</th><th>when</th><th>for (windows)</th><th>fired at</th></tr>{rule_rows}</table>
<p>Retrain: <code>{html.escape(result.retrain)}</code></p>
<h2>Live metrics against the bundle's test metrics</h2>
<table><tr><th>metric</th><th>test</th><th>last window with enough labels</th></tr>{metric_rows}</table>
<h2>Plots</h2>{''.join(images)}
</body></html>"""
    atomic_write_text(result.report, page)
    return result.report


def _window_text(result: MonitorResult) -> str:
    sizes = {w["count"] for w in result.windows}
    return f"{max(sizes, default=0)} predictions"


def _last(windows: Sequence[Mapping[str, Any]], metric: str) -> float | None:
    values = [w["live"].get(metric) for w in windows if w["live"].get(metric) is not None]
    return values[-1] if values else None


def _fmt(value: float | None) -> str:
    return "not enough data" if value is None else f"{value:.4g}"


def monitor_log(
    bundle: str | Path, log_dir: str | Path, rules_path: str | Path | None = None, output: str | Path = "monitor.html",
    export: str | Path | None = None, trusted_keys: Any = None,
) -> MonitorResult:
    """Analyse a log against its bundle, evaluate the rules, export the labelled data and write the report."""
    profile, manifest, cfg = load_profile(bundle, trusted_keys)
    rules = load_rules(rules_path, profile)
    records, labels = read_log(log_dir)
    mine = [r for r in records if r.get("model_version") == profile.model_version]
    if not mine:
        versions = sorted({str(r.get("model_version")) for r in records})
        raise DataError(
            f"the log in {log_dir} holds predictions of model version(s) {', '.join(versions[:5])}, not of this "
            f"bundle ({profile.model_version})", "pass the bundle that served them",
        )
    joined = join_labels(mine, labels)
    analysis = analyze(mine, joined, profile, rules.window)
    output = Path(output)
    export_path = Path(export) if export else output.with_name(f"{output.stem}-labelled.csv")
    exported, retrain = export_labelled(mine, joined, profile, manifest, cfg, export_path)
    result = MonitorResult(
        profile, analysis["windows"], evaluate_rules(rules, analysis["windows"], profile), len(mine), len(joined),
        len(records) - len(mine), output, exported, retrain,
    )
    write_report(result)
    return result
