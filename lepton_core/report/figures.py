"""Save matplotlib figures for the report (headless, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lepton_core.hooks.specs import Figure, RunContext


def new_figure(width: float = 6.0, height: float = 4.0) -> tuple[Any, Any]:
    """A matplotlib (figure, axes) pair on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=110)


def save_figure(fig: Any, ctx: RunContext | Path, name: str, title: str, caption: str = "") -> Figure:
    """Write ``fig`` as ``<figures_dir>/<name>.png``, close it and return the report Figure."""
    import matplotlib.pyplot as plt

    folder = ctx.figures_dir if isinstance(ctx, RunContext) else Path(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return Figure(title=title, path=path, caption=caption)
