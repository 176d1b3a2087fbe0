"""Test-split evaluation: risk metrics for the network and baselines, calibration, cost, deciles, explanations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.metrics.classification import binary_metrics, expected_calibration_error
from lepton_core.report.figures import new_figure, save_figure
from lepton_core.report.plots import pr_plot, reliability_plot, roc_plot
from lepton_core.tabular.attribution import column_attributions, top_reasons
from lepton_finance.champion import GREATER_IS_BETTER, Champion, select_champion
from lepton_finance.decision import DecisionPolicy, expected_cost, net_logits

__all__ = ["decile_table", "evaluate"]

IMPORTANCE_ROWS = 2000


def contender_metrics(y: np.ndarray, prob: np.ndarray, policy: DecisionPolicy) -> dict[str, float]:
    """binary_metrics at the policy's threshold, plus expected cost per row and calibration error."""
    metrics = binary_metrics(y, prob, threshold=policy.threshold)
    metrics["expected_cost"] = expected_cost(y, prob, policy.threshold, policy.cost_false_negative, policy.cost_false_positive)
    metrics["ece"] = expected_calibration_error(y, prob)
    metrics["flag_rate"] = float((prob >= policy.threshold).mean())
    return metrics


def decile_table(y: np.ndarray, prob: np.ndarray, contender: str = "model") -> Table:
    """Rows ranked by score in ten equal groups (1 = riskiest): score range, positives, rate, capture, lift."""
    order = np.argsort(-prob, kind="stable")
    groups = np.array_split(order, 10)
    total, base_rate = max(int(y.sum()), 1), float(y.mean())
    rows, captured = [], 0
    for decile, index in enumerate(groups, start=1):
        positives = int(y[index].sum())
        captured += positives
        rate = positives / max(len(index), 1)
        rows.append(
            (decile, len(index), f"{prob[index].min():.4f}", f"{prob[index].max():.4f}", positives,
             f"{rate:.2%}", f"{captured / total:.1%}", f"{rate / base_rate:.2f}" if base_rate else "n/a")
        )
    return Table(
        title=f"Score deciles ({contender}, test split)",
        columns=("decile", "rows", "min score", "max score", "positives", "positive rate", "cumulative capture", "lift"),
        rows=tuple(rows),
        caption="Decile 1 holds the highest scores; capture = share of all positives found down to that decile.",
    )


def _cost_plot(ctx: RunContext, y: np.ndarray, probs: Mapping[str, np.ndarray], policy: DecisionPolicy) -> Figure:
    fig, ax = new_figure(5, 4.2)
    thresholds = np.unique(np.r_[np.geomspace(max(1e-4, policy.threshold / 50), 0.999, 120), policy.threshold])
    for label, prob in probs.items():
        costs = [expected_cost(y, prob, t, policy.cost_false_negative, policy.cost_false_positive) for t in thresholds]
        ax.plot(thresholds, costs, label=label)
    ax.axvline(policy.threshold, ls="--", color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="decision threshold (probability)", ylabel="expected cost per row", title="Expected cost")
    ax.legend(loc="best")
    caption = (
        f"Cost of a missed positive {policy.cost_false_negative:g}, of a false alarm {policy.cost_false_positive:g}; "
        f"dashed: the threshold in use ({policy.threshold:.4f}, from {policy.threshold_source})."
    )
    return save_figure(fig, ctx, "expected_cost", "Expected cost by threshold", caption)


def _importance_plot(ctx: RunContext, columns: Sequence[str], importance: np.ndarray) -> Figure:
    order = np.argsort(importance)[-20:]
    fig, ax = new_figure(5.5, 0.3 * len(order) + 1.2)
    ax.barh([columns[i] for i in order], importance[order], color="#3b75af")
    ax.set(xlabel="mean |contribution| (log-odds)", title="Global feature importance")
    return save_figure(
        fig, ctx, "feature_importance", "Global feature importance",
        "Mean absolute contribution per input column to the deployed model's log-odds over test rows, against the "
        "average training row (network: integrated gradients; logistic: exact; gradient boosting: TreeSHAP).",
    )


def _reason_table(
    datamodule: Any, prob: np.ndarray, policy: DecisionPolicy, attributions: np.ndarray, decisions: Mapping[str, str]
) -> Table:
    """Reason codes of the five highest-scored test rows."""
    columns = datamodule.preprocessor.columns
    riskiest = np.argsort(-prob[: len(attributions)], kind="stable")[:5]
    rows_raw = datamodule.input_rows("test", len(attributions))
    reasons = top_reasons(attributions[riskiest], columns, [rows_raw[i] for i in riskiest], k=3)
    id_column = datamodule.id_column
    rows = []
    for index, codes in zip(riskiest, reasons):
        text = "; ".join(f"{c['feature']}={c['value']} ({c['contribution']:+.2f})" for c in codes)
        decision = decisions["positive"] if prob[index] >= policy.threshold else decisions["negative"]
        row_id = rows_raw[index].get(id_column) if id_column else int(index)
        rows.append((row_id, f"{prob[index]:.4f}", decision, text))
    return Table(
        title="Reason codes of the highest-scored test rows",
        columns=(id_column or "test row", "probability", "decision", "top reasons (value, contribution to the logit)"),
        rows=tuple(rows),
        caption="The same reason codes come with every prediction of the bundle's predictor.",
    )


def _selection_table(champion: Champion) -> Table:
    rows = []
    for c in champion.candidates:
        ece_cal = "-" if c.policy.ece_val_calibrated is None else f"{c.policy.ece_val_calibrated:.4f}"
        rows.append((
            c.name, f"{c.val_score:.4f}", f"{c.policy.ece_val_uncalibrated:.4f}", ece_cal,
            "kept" if c.policy.calibrated else "dropped", "yes" if c is champion.chosen else "",
        ))
    return Table(
        title=f"Champion selection on the validation split ({champion.metric})",
        columns=("contender", f"validation {champion.metric}", "val ECE raw", "val ECE Platt (cross-fitted)",
                 "calibration", "deployed"),
        rows=tuple(rows),
        caption="The bundle deploys the contender with the best validation score (the network on ties); "
                "Platt calibration is kept only where it lowers the validation ECE. The test split chose nothing.",
    )


def evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Pick the champion on validation, then score every contender on the test split; figures, tables, notes."""
    decisions = dict(ctx.cfg.task.get("decisions") or {"positive": "flag", "negative": "pass"})
    val_inputs = tuple(datamodule.tensors["val"][:2])
    network_val = net_logits(model, datamodule.loader("val")) if model is not None else None
    champion = select_champion(ctx.cfg.task, datamodule.targets["val"], network_val, baselines, val_inputs, ctx.seed)

    x_num, x_cat, y_tensor = datamodule.tensors["test"]
    y = y_tensor.numpy().astype(int)
    network_test = net_logits(model, datamodule.loader("test")) if model is not None else None
    shown = [c for c in champion.candidates if c.network_weight in (0.0, 1.0) or c is champion.chosen]
    probs: dict[str, np.ndarray] = {}
    metrics: dict[str, dict[str, float]] = {}
    for candidate in shown:
        z = champion.scorer_of(candidate).logits(network_test, (x_num, x_cat))
        probs[candidate.name] = candidate.policy.probability(z)
        metrics[candidate.name] = contender_metrics(y, probs[candidate.name], candidate.policy)
        metrics[candidate.name]["ece_uncalibrated"] = expected_calibration_error(y, 1.0 / (1.0 + np.exp(-z)))
    chosen = champion.chosen
    policy = chosen.policy
    deployed = champion.deployed()
    raw = 1.0 / (1.0 + np.exp(-deployed.logits(network_test, (x_num, x_cat))))
    metrics[chosen.name]["expected_cost_flag_none"] = policy.cost_false_negative * float(y.mean())

    n_explain = min(IMPORTANCE_ROWS, len(y))
    inputs_explain = (x_num[:n_explain], x_cat[:n_explain])
    network_attr = (
        column_attributions(model.net, datamodule.preprocessor, *inputs_explain) if deployed.uses_network else None
    )
    attributions = deployed.attributions(network_attr, inputs_explain, datamodule.preprocessor)
    columns = datamodule.preprocessor.columns
    importance = np.abs(attributions).mean(axis=0)

    figures = (
        roc_plot(ctx, y, probs),
        pr_plot(ctx, y, probs),
        reliability_plot(ctx, y, {f"{chosen.name} (raw)": raw, **{f"{k}{' (deployed)' if k == chosen.name else ''}": v
                                                                   for k, v in probs.items()}}),
        _cost_plot(ctx, y, probs, policy),
        _importance_plot(ctx, columns, importance),
    )
    ranked = np.argsort(-importance)
    tables = (
        _selection_table(champion),
        decile_table(y, probs[chosen.name], chosen.name),
        _reason_table(datamodule, probs[chosen.name], policy, attributions, decisions),
        Table(
            title=f"Global feature importance ({chosen.name})",
            columns=("feature", "mean |attribution|"),
            rows=tuple((columns[i], f"{importance[i]:.4f}") for i in ranked[:15]),
        ),
    )
    return Evaluation(
        metrics=metrics,
        primary_metric=champion.metric,
        greater_is_better=champion.greater_is_better,
        metric_directions=GREATER_IS_BETTER,
        figures=figures,
        tables=tables,
        notes=tuple(_notes(metrics, champion, decisions)),
        champion={**champion.record(), "test": metrics[chosen.name]},
        fitted={"champion": champion},  # read by the export: the bundle deploys what was chosen here
    )


def _notes(metrics: Mapping[str, Mapping[str, float]], champion: Champion, decisions: Mapping[str, str]) -> list[str]:
    chosen, metric = champion.chosen, champion.metric
    network = next((c for c in champion.candidates if c.name == "model"), None)
    notes = []
    if chosen.name == "model":
        notes.append(f"Deployed: the network (validation {metric} {chosen.val_score:.4f}; no baseline or blend did better).")
    elif network is not None:
        notes.append(
            f"Deployed: '{chosen.name}', not the network: its validation {metric} {chosen.val_score:.4f} beats the "
            f"network's {network.val_score:.4f}. The bundle's predictions and reason codes come from '{chosen.name}'."
        )
    else:
        notes.append(f"Deployed: '{chosen.name}' (validation {metric} {chosen.val_score:.4f}).")
    policy = chosen.policy
    if policy.calibrated:
        notes.append(
            f"Platt calibration kept for '{chosen.name}': validation ECE {policy.ece_val_uncalibrated:.4f} raw, "
            f"{policy.ece_val_calibrated:.4f} calibrated (cross-fitted); on test {metrics[chosen.name]['ece_uncalibrated']:.4f} "
            f"raw, {metrics[chosen.name]['ece']:.4f} calibrated."
        )
    else:
        after = "n/a" if policy.ece_val_calibrated is None else f"{policy.ece_val_calibrated:.4f}"
        notes.append(
            f"Calibration dropped for '{chosen.name}': it would not lower the validation ECE "
            f"({policy.ece_val_uncalibrated:.4f} raw, {after} calibrated, cross-fitted); raw scores are used."
        )
    deployed = metrics[chosen.name]
    notes.append(
        f"Decision: '{decisions['positive']}' when the probability is at least {policy.threshold:.4f} "
        f"(from {policy.threshold_source}; a missed positive costs {policy.cost_false_negative:g}, a false alarm "
        f"{policy.cost_false_positive:g}). Expected cost per row: {deployed['expected_cost']:.4f} "
        f"(flagging nothing: {deployed['expected_cost_flag_none']:.4f})."
    )
    return notes
