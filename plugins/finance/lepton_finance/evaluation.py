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
from lepton_finance.decision import DecisionPolicy, expected_cost, fit_policy, net_logits

__all__ = ["AUC_TOLERANCE", "decile_table", "evaluate"]

AUC_TOLERANCE = 0.01
IMPORTANCE_ROWS = 2000


def contender_metrics(y: np.ndarray, prob: np.ndarray, policy: DecisionPolicy) -> dict[str, float]:
    """binary_metrics at the policy's threshold, plus expected cost per row and calibration error."""
    metrics = binary_metrics(y, prob, threshold=policy.threshold)
    metrics["expected_cost"] = expected_cost(y, prob, policy.threshold, policy.cost_false_negative, policy.cost_false_positive)
    metrics["ece"] = expected_calibration_error(y, prob)
    metrics["flag_rate"] = float((prob >= policy.threshold).mean())
    return metrics


def decile_table(y: np.ndarray, prob: np.ndarray) -> Table:
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
        title="Score deciles (network, test split)",
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
    ax.set(xlabel="mean |integrated-gradients attribution| (logit)", title="Global feature importance")
    return save_figure(
        fig, ctx, "feature_importance", "Global feature importance",
        "Mean absolute attribution per input column over test rows (integrated gradients against the average training row).",
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


def evaluate(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Score network and baselines on the test split; figures, tables and notes for the report."""
    policy = fit_policy(ctx.cfg.task, model, datamodule)
    decisions = dict(ctx.cfg.task.get("decisions") or {"positive": "flag", "negative": "pass"})
    x_num, x_cat, y_tensor = datamodule.tensors["test"]
    y = y_tensor.numpy().astype(int)
    logits = net_logits(model, datamodule.loader("test"))
    raw = 1.0 / (1.0 + np.exp(-logits))
    probs: dict[str, np.ndarray] = {"model": policy.probability(logits)}
    for baseline in baselines:
        probs[baseline.name] = np.asarray(baseline.predict((x_num, x_cat)), dtype=np.float64)
    metrics = {name: contender_metrics(y, prob, policy) for name, prob in probs.items()}
    metrics["model"]["ece_uncalibrated"] = expected_calibration_error(y, raw)
    metrics["model"]["expected_cost_flag_none"] = policy.cost_false_negative * float(y.mean())

    n_explain = min(IMPORTANCE_ROWS, len(y))
    attributions = column_attributions(model.net, datamodule.preprocessor, x_num[:n_explain], x_cat[:n_explain])
    columns = datamodule.preprocessor.columns
    importance = np.abs(attributions).mean(axis=0)

    figures = (
        roc_plot(ctx, y, probs),
        pr_plot(ctx, y, probs),
        reliability_plot(ctx, y, {"model (raw)": raw, "model (calibrated)": probs["model"],
                                  **{k: v for k, v in probs.items() if k != "model"}}),
        _cost_plot(ctx, y, probs, policy),
        _importance_plot(ctx, columns, importance),
    )
    ranked = np.argsort(-importance)
    tables = (
        decile_table(y, probs["model"]),
        _reason_table(datamodule, probs["model"], policy, attributions, decisions),
        Table(
            title="Global feature importance",
            columns=("feature", "mean |attribution|"),
            rows=tuple((columns[i], f"{importance[i]:.4f}") for i in ranked[:15]),
        ),
    )
    return Evaluation(
        metrics=metrics,
        primary_metric="roc_auc",
        greater_is_better=True,
        figures=figures,
        tables=tables,
        notes=tuple(_notes(metrics, policy, decisions)),
    )


def _notes(metrics: Mapping[str, Mapping[str, float]], policy: DecisionPolicy, decisions: Mapping[str, str]) -> list[str]:
    notes = []
    model_auc = metrics["model"]["roc_auc"]
    logistic = metrics.get("logistic", {}).get("roc_auc")
    if logistic is not None:
        if model_auc < logistic - AUC_TOLERANCE:
            notes.append(
                f"The network's ROC-AUC ({model_auc:.4f}) is more than {AUC_TOLERANCE} below the logistic "
                f"baseline's ({logistic:.4f}) on this data: prefer the logistic model, or tune the network "
                "(hparams_search=finance)."
            )
        else:
            notes.append(
                f"The network's ROC-AUC ({model_auc:.4f}) is within {AUC_TOLERANCE} of the logistic baseline's "
                f"({logistic:.4f}) or better."
            )
    if policy.calibrated:
        notes.append(
            "Network probabilities are calibrated on the validation split (Platt scaling); calibration error (ECE) "
            f"{metrics['model']['ece_uncalibrated']:.4f} before, {metrics['model']['ece']:.4f} after."
        )
    else:
        notes.append("Calibration was skipped: the network does not rank the validation rows (train it longer).")
    notes.append(
        f"Decision: '{decisions['positive']}' when the probability is at least {policy.threshold:.4f} "
        f"(from {policy.threshold_source}; a missed positive costs {policy.cost_false_negative:g}, a false alarm "
        f"{policy.cost_false_positive:g}). Expected cost per row: {metrics['model']['expected_cost']:.4f} "
        f"(flagging nothing: {metrics['model']['expected_cost_flag_none']:.4f})."
    )
    return notes
