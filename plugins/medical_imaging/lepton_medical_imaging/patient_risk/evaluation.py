"""Test-split evaluation of readmission risk: discrimination, calibration, subgroups, reasons.

Every contender (the network and each baseline) is calibrated on the validation split (Platt, isotonic or
temperature, kept only where it lowers the cross-fitted validation ECE) and scored on the test split's
patients, who are in no other split. Subgroup rows (sex, age band, admission type...) give counts, the
observed and predicted rates, ROC-AUC and ECE, and flag groups too small to read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lepton_core import Evaluation, Figure, RunContext, Table
from lepton_core.metrics.calibration import CALIBRATION_METHODS, BinaryCalibrator, fit_calibrator, sigmoid
from lepton_core.metrics.classification import binary_metrics, bootstrap_interval, expected_calibration_error
from lepton_core.report.figures import new_figure, save_figure
from lepton_core.report.plots import pr_plot, reliability_plot, roc_plot
from lepton_core.tabular.attribution import column_attributions, top_reasons
from lepton_core.tabular.classifier import net_logits

__all__ = ["calibration_methods", "contender_logits", "evaluate_patient_risk", "subgroup_metrics"]

EXPLAIN_ROWS = 1000
DIRECTIONS = {"worst_subgroup_roc_auc": True, "max_subgroup_ece": False, "ece_uncalibrated": False}


def calibration_methods(task_cfg: Mapping[str, Any]) -> list[str]:
    """``task.calibration``: a list of methods to try, ``auto`` (all of them) or ``none``."""
    value = task_cfg.get("calibration", "auto")
    if value in (None, "none", False):
        return []
    if value == "auto":
        return list(CALIBRATION_METHODS)
    return [value] if isinstance(value, str) else [str(v) for v in value]


def contender_logits(model: Any, baselines: Sequence[Any], datamodule: Any, split: str) -> dict[str, np.ndarray]:
    """Log-odds of the network (``model``) and of each baseline on one split."""
    logits: dict[str, np.ndarray] = {}
    if model is not None:
        logits["model"] = net_logits(model, datamodule.loader(split))
    inputs = tuple(datamodule.tensors[split][:2])
    for baseline in baselines:
        logits[baseline.name] = np.asarray(baseline.scorer().logits(inputs), dtype=np.float64)
    return logits


def fit_calibrators(model: Any, baselines: Sequence[Any], datamodule: Any, methods: Sequence[str], seed: int) -> dict[str, BinaryCalibrator]:
    """One calibrator per contender, chosen on the validation split."""
    y_val = datamodule.targets["val"]
    return {
        name: fit_calibrator(z, y_val, methods, seed=seed)
        for name, z in contender_logits(model, baselines, datamodule, "val").items()
    }


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def subgroup_metrics(
    y: np.ndarray, prob: np.ndarray, groups: pd.DataFrame, patients: np.ndarray, min_count: int
) -> list[dict[str, Any]]:
    """Per subgroup value: admissions, patients, readmissions, observed and mean predicted rate, ROC-AUC, ECE.

    ``small`` marks groups with fewer than ``min_count`` admissions or fewer than 10 readmissions or
    non-readmissions: their AUC and ECE are too noisy to compare (AUC is NaN with a single class).
    """
    rows = []
    for column in groups.columns:
        values = groups[column]
        indices = values.groupby(values, observed=True).indices
        ordered = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else sorted(indices, key=str)
        for value, index in ((v, indices[v]) for v in ordered if v in indices):
            yy, pp = y[index], prob[index]
            positives = int(yy.sum())
            both = 0 < positives < len(yy)
            rows.append(
                {
                    "group": column,
                    "value": str(value),
                    "admissions": len(index),
                    "patients": len(np.unique(patients[index])),
                    "readmitted": positives,
                    "observed_rate": float(yy.mean()),
                    "mean_predicted": float(pp.mean()),
                    "roc_auc": _auc(yy, pp) if both else float("nan"),
                    "ece": expected_calibration_error(yy, pp),
                    "small": len(index) < min_count or min(positives, len(yy) - positives) < 10,
                }
            )
    return rows


def _metrics(y: np.ndarray, z: np.ndarray, calibrator: BinaryCalibrator, subgroups: list[dict[str, Any]], seed: int) -> dict[str, float]:
    prob = calibrator.probability(z)
    full = binary_metrics(y, prob)
    metrics = {k: full[k] for k in ("roc_auc", "pr_auc", "brier", "log_loss")}
    metrics["ece"] = expected_calibration_error(y, prob)
    metrics["ece_uncalibrated"] = expected_calibration_error(y, sigmoid(z))
    metrics["roc_auc_ci_low"], metrics["roc_auc_ci_high"] = bootstrap_interval(y, prob, _auc, n_boot=200, seed=seed)
    readable = [g for g in subgroups if not g["small"]]
    metrics["worst_subgroup_roc_auc"] = min((g["roc_auc"] for g in readable), default=float("nan"))
    metrics["max_subgroup_ece"] = max((g["ece"] for g in readable), default=float("nan"))
    return metrics


def _subgroup_table(rows: list[dict[str, Any]], contender: str, min_count: int) -> Table:
    return Table(
        title=f"Subgroups ({contender}, test split)",
        columns=("group", "value", "admissions", "patients", "readmitted", "observed rate", "mean predicted",
                 "ROC-AUC", "ECE", "note"),
        rows=tuple(
            (g["group"], g["value"], g["admissions"], g["patients"], g["readmitted"], f"{g['observed_rate']:.3f}",
             f"{g['mean_predicted']:.3f}", "n/a" if np.isnan(g["roc_auc"]) else f"{g['roc_auc']:.3f}",
             f"{g['ece']:.3f}", "small: read with care" if g["small"] else "")
            for g in rows
        ),
        caption=f"Calibrated probabilities of the {contender}. Small = under {min_count} admissions or under 10 "
        "admissions of either outcome; small groups are left out of worst_subgroup_roc_auc and max_subgroup_ece.",
    )


def _subgroup_plot(ctx: RunContext, rows: list[dict[str, Any]], overall_auc: float, contender: str) -> Figure:
    labels = [f"{g['group']}={g['value']} (n={g['admissions']})" for g in rows]
    fig, _ = new_figure(9, 0.32 * len(rows) + 1.4)
    fig.clf()
    left, right = fig.subplots(1, 2, sharey=True)
    position = np.arange(len(rows))[::-1]
    colors = ["#b0b0b0" if g["small"] else "#3b75af" for g in rows]
    left.barh(position, [0 if np.isnan(g["roc_auc"]) else g["roc_auc"] for g in rows], color=colors)
    left.axvline(overall_auc, ls="--", color="black", lw=0.8)
    left.set(yticks=position, yticklabels=labels, xlim=(0.4, 1.0), xlabel="ROC-AUC", title="Discrimination")
    gap = [g["mean_predicted"] - g["observed_rate"] for g in rows]
    right.barh(position, gap, color=colors)
    right.axvline(0, color="black", lw=0.8)
    right.set(xlabel="mean predicted - observed rate", title="Calibration in the large")
    return save_figure(
        fig, ctx, "subgroups", f"Subgroups ({contender})",
        "Test split. Dashed: overall ROC-AUC. Grey bars: small subgroups (few admissions or few events), too "
        "noisy to compare. Right: a bar left of zero means the group's risk is underestimated.",
    )


def _reason_table(datamodule: Any, prob: np.ndarray, attributions: np.ndarray) -> Table:
    columns = datamodule.preprocessor.columns
    riskiest = np.argsort(-prob[: len(attributions)], kind="stable")[:5]
    raw = datamodule.input_rows("test", len(attributions))
    reasons = top_reasons(attributions[riskiest], columns, [raw[i] for i in riskiest], k=3)
    id_column = datamodule.id_column
    return Table(
        title="Top reasons of the highest-risk test admissions (model)",
        columns=(id_column or "test row", "probability", "top reasons (value, contribution to the log-odds)"),
        rows=tuple(
            (raw[i].get(id_column) if id_column else int(i), f"{prob[i]:.3f}",
             "; ".join(f"{r['feature']}={r['value']} ({r['contribution']:+.2f})" for r in codes))
            for i, codes in zip(riskiest, reasons)
        ),
        caption="Integrated gradients against the average training admission; every prediction of the bundle "
        "carries the same reasons.",
    )


def evaluate_patient_risk(ctx: RunContext, datamodule: Any, model: Any, baselines: Sequence[Any]) -> Evaluation:
    """Calibrate every contender on validation, score it on the test patients; plots, subgroup and reason tables."""
    task = ctx.cfg.task
    min_count = int(task.get("min_subgroup_admissions", 50))
    calibrators = fit_calibrators(model, baselines, datamodule, calibration_methods(task), ctx.seed)
    y = datamodule.targets["test"].astype(int)
    logits = contender_logits(model, baselines, datamodule, "test")
    probs = {name: calibrators[name].probability(z) for name, z in logits.items()}
    groups, patients = datamodule.split_subgroups["test"], datamodule.split_patients["test"]
    subgroups = {name: subgroup_metrics(y, p, groups, patients, min_count) for name, p in probs.items()}
    metrics = {name: _metrics(y, logits[name], calibrators[name], subgroups[name], ctx.seed) for name in logits}
    reliability = {"model (raw)": sigmoid(logits["model"]), **probs} if "model" in logits else probs
    figures = [roc_plot(ctx, y, probs), pr_plot(ctx, y, probs), reliability_plot(ctx, y, reliability)]
    tables = [_calibration_table(calibrators)]
    if "model" in logits:
        figures.append(_subgroup_plot(ctx, subgroups["model"], metrics["model"]["roc_auc"], "model"))
        tables.append(_subgroup_table(subgroups["model"], "model", min_count))
        n = min(EXPLAIN_ROWS, len(y))
        x_num, x_cat, _ = datamodule.tensors["test"]
        attributions = column_attributions(model.net, datamodule.preprocessor, x_num[:n], x_cat[:n], steps=16)
        importance = np.abs(attributions).mean(axis=0)
        ranked = np.argsort(-importance)[:12]
        tables.append(_reason_table(datamodule, probs["model"], attributions))
        tables.append(
            Table(
                title="Global feature importance (model)",
                columns=("feature", "mean |attribution| (log-odds)"),
                rows=tuple((datamodule.preprocessor.columns[i], f"{importance[i]:.4f}") for i in ranked),
            )
        )
    return Evaluation(
        metrics=metrics,
        primary_metric="roc_auc",
        greater_is_better=True,
        metric_directions=DIRECTIONS,
        figures=tuple(figures),
        tables=tuple(tables),
        notes=tuple(_notes(datamodule, metrics, calibrators, subgroups)),
        fitted={"calibrators": calibrators},  # the bundle serves what was evaluated
    )


def _calibration_table(calibrators: Mapping[str, BinaryCalibrator]) -> Table:
    methods = sorted({m for c in calibrators.values() for m in c.ece_by_method})
    return Table(
        title="Calibration chosen on the validation split (ECE, cross-fitted)",
        columns=("contender", "raw", *methods, "kept"),
        rows=tuple(
            (name, f"{c.ece_raw:.4f}", *(f"{c.ece_by_method[m]:.4f}" if m in c.ece_by_method else "-" for m in methods),
             c.method)
            for name, c in calibrators.items()
        ),
        caption="Each method is fitted on one half of the validation split and scored on the other (both ways); "
        "the best is kept, refitted on all of it, only where it lowers the raw ECE. The test split chose nothing.",
    )


def _notes(
    datamodule: Any,
    metrics: Mapping[str, Mapping[str, float]],
    calibrators: Mapping[str, BinaryCalibrator],
    subgroups: Mapping[str, list[dict[str, Any]]],
) -> list[str]:
    split_patients = datamodule.split_patients
    shared = set(split_patients["train"]) & (set(split_patients["val"]) | set(split_patients["test"]))
    shared |= set(split_patients["val"]) & set(split_patients["test"])
    counts = ", ".join(f"{s} {len(set(p))}" for s, p in split_patients.items())
    notes = [f"Splits grouped by patient ({counts} patients); patients in two splits: {len(shared)}."]
    if "model" in metrics:
        m, c = metrics["model"], calibrators["model"]
        notes.append(
            f"Model ROC-AUC {m['roc_auc']:.3f} (bootstrap 95% interval {m['roc_auc_ci_low']:.3f}-{m['roc_auc_ci_high']:.3f}, "
            f"{len(datamodule.targets['test'])} test admissions)."
        )
        kept = "none kept" if c.method == "none" else f"{c.method} kept"
        notes.append(
            f"Model calibration: {kept} (validation ECE raw {c.ece_raw:.4f}); test ECE {m['ece_uncalibrated']:.4f} raw, "
            f"{m['ece']:.4f} as deployed."
        )
        small = [f"{g['group']}={g['value']}" for g in subgroups["model"] if g["small"]]
        if small:
            notes.append(f"Small subgroups (noisy, not compared): {', '.join(small)}.")
    return notes
