"""Standard report plots (ROC, precision-recall, reliability, confusion matrix) for any classifier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from lepton_core.hooks.specs import Figure, RunContext
from lepton_core.report.figures import new_figure, save_figure

__all__ = ["confusion_matrix_plot", "p50_p90_scatter", "pr_plot", "reliability_plot", "roc_plot"]


def roc_plot(ctx: RunContext, y_true: ArrayLike, scores: Mapping[str, ArrayLike], name: str = "roc") -> Figure:
    """ROC curves of each contender (name -> positive-class score) on one axes."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig, ax = new_figure(5, 4.2)
    for label, score in scores.items():
        fpr, tpr, _ = roc_curve(y_true, score)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(y_true, score):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    return save_figure(fig, ctx, name, "ROC curve", "Model and baselines on the test split.")


def pr_plot(ctx: RunContext, y_true: ArrayLike, scores: Mapping[str, ArrayLike], name: str = "pr") -> Figure:
    """Precision-recall curves of each contender, with the positive rate as reference."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = new_figure(5, 4.2)
    for label, score in scores.items():
        precision, recall, _ = precision_recall_curve(y_true, score)
        ax.plot(recall, precision, label=f"{label} (AP {average_precision_score(y_true, score):.3f})")
    ax.axhline(float(np.mean(y_true)), ls="--", color="grey", lw=0.8)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
    ax.legend(loc="upper right")
    return save_figure(fig, ctx, name, "Precision-recall curve", "Dashed line: share of positives.")


def reliability_plot(
    ctx: RunContext, y_true: ArrayLike, probs: Mapping[str, ArrayLike], bins: int = 10, name: str = "reliability"
) -> Figure:
    """Reliability diagram: mean predicted probability against observed frequency, per bin."""
    from sklearn.calibration import calibration_curve

    fig, ax = new_figure(5, 4.2)
    for label, prob in probs.items():
        frac, mean = calibration_curve(y_true, prob, n_bins=bins, strategy="quantile")
        ax.plot(mean, frac, marker="o", ms=3, label=label)
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=0.8)
    ax.set(xlabel="mean predicted probability", ylabel="observed frequency", title="Reliability")
    ax.legend(loc="upper left")
    return save_figure(fig, ctx, name, "Reliability diagram", "On the diagonal = well calibrated.")


def confusion_matrix_plot(
    ctx: RunContext, y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[str], name: str = "confusion"
) -> Figure:
    """Confusion matrix with counts, rows = true class."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
    size = 2.5 + 0.5 * len(labels)
    fig, ax = new_figure(size, size * 0.85)
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if matrix[i, j] > matrix.max() / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix")
    return save_figure(fig, ctx, name, "Confusion matrix", "Test split; rows are the true classes.")


def p50_p90_scatter(
    ctx: RunContext,
    actual: ArrayLike,
    p50: ArrayLike,
    p90: ArrayLike,
    name: str,
    what: str,
    unit: str,
) -> Figure:
    """Actual against predicted P50, with each point's P90: points above their P90 broke the 90% promise."""
    actual, p50, p90 = (np.asarray(a, dtype=float) for a in (actual, p50, p90))
    fig, ax = new_figure(5.5, 4.5)
    ax.scatter(p50, actual, s=3, alpha=0.3, label=what)
    ax.scatter(p50, p90, s=2, color="tab:orange", alpha=0.5, label="their P90")
    top = float(np.quantile(np.concatenate([actual, p90]), 0.995))
    ax.plot([0, top], [0, top], "k--", linewidth=0.8, label="P50 = actual")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"predicted P50 ({unit})")
    ax.set_ylabel(f"actual ({unit})")
    ax.legend(fontsize=8)
    return save_figure(fig, ctx, name, "Actual vs predicted P50 (network)",
                       f"Blue points above their orange P90 are {what} later than the 90% promise.")
