"""Report plots: the layout coloured by picks per policy, distance distributions, an example route on the layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lepton_core.hooks.specs import Figure, RunContext
from lepton_core.report.figures import new_figure, save_figure
from lepton_logistics.warehouse.layout import Layout
from lepton_logistics.warehouse.picking import PickSettings, drawn_path, route
from lepton_logistics.warehouse.slotting import Slotting


def _bay_picks(layout: Layout, slot_of_sku: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Picks per (bay, aisle): every level of a bay summed."""
    grid = np.zeros((layout.n_bays, int(layout.aisle.max()) + 1))
    np.add.at(grid, (layout.bay[slot_of_sku], layout.aisle[slot_of_sku]), picks)
    return grid


def velocity_heatmaps(ctx: RunContext, layout: Layout, slottings: Mapping[str, np.ndarray], picks: np.ndarray) -> Figure:
    """One panel per policy: the test period's actual picks per bay, depot at the bottom."""
    fig, _ = new_figure(2.6 * len(slottings) + 0.6, 4.2)
    fig.clear()
    *axes, bar = fig.subplots(1, len(slottings) + 1, gridspec_kw={"width_ratios": [1.0] * len(slottings) + [0.07]})
    grids = {name: _bay_picks(layout, slots, picks) for name, slots in slottings.items()}
    top = max(float(g.max()) for g in grids.values()) or 1.0
    for axis, (name, grid) in zip(axes, grids.items()):
        image = axis.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=top, aspect="auto")
        axis.scatter([layout.depot_x_m / layout.aisle_spacing_m], [-0.9], marker="*", s=120, color="red", clip_on=False)
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("aisle")
        axis.set_ylabel("bay (depot side at the bottom)")
    fig.colorbar(image, cax=bar, label="test-period picks per bay")
    return save_figure(fig, ctx, "warehouse_slotting_heatmap", "Where the picks land, per slotting policy",
                       "Actual picks of the held-out period per bay (all levels), under each policy's slotting; "
                       "the red star is the depot / pack station.")


def distance_distributions(ctx: RunContext, distances: Mapping[str, np.ndarray]) -> Figure:
    """Box plots of walking distance per order, one per contender, fastest median first."""
    names = sorted(distances, key=lambda n: float(np.median(distances[n])))
    fig, ax = new_figure(7.0, 0.35 * len(names) + 1.6)
    ax.boxplot([distances[n] for n in names], vert=False, showfliers=False)
    ax.set_yticks(range(1, len(names) + 1))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("walking distance per order (m)")
    return save_figure(fig, ctx, "warehouse_distance_distribution", "Walking distance per order",
                       "Box: quartiles; whiskers: 1.5 IQR (outliers hidden). model = forecast slotting + OR-Tools.")


def example_routes(ctx: RunContext, layout: Layout, datamodule: Any, slotting: Slotting, orders: Sequence[Any],
                   settings: PickSettings) -> Figure:
    """The largest test order (up to 12 lines) routed by S-shape and by OR-Tools, on the forecast slotting."""
    index = {sku: i for i, sku in enumerate(datamodule.skus)}
    sizes = [len(o) if len(o) <= 12 else 0 for o in orders]
    lines = orders[int(np.argmax(sizes))]
    slots = slotting.slot_of_sku[[index[s] for s in lines["sku"]]]
    fig, _ = new_figure(9.0, 4.4)
    fig.clear()
    axes = fig.subplots(1, 2)
    for axis, router in zip(axes, ("s_shape", "ortools")):
        walked = route(layout, slots, router, settings)
        for aisle in range(int(layout.aisle.max()) + 1):
            axis.plot([aisle * layout.aisle_spacing_m] * 2, [0, layout.aisle_length_m], color="0.85", linewidth=6,
                      solid_capstyle="butt", zorder=0)
        xs, ys = drawn_path(layout, walked.waypoints)
        axis.plot(xs, ys, "-", color="tab:blue", linewidth=1.4)
        axis.scatter(layout.x[slots], layout.y[slots], color="tab:orange", zorder=3, s=25, label="picks")
        axis.scatter([layout.depot_x_m], [0], marker="*", color="red", s=150, zorder=4, label="depot")
        axis.set_title(f"{router}: {walked.distance_m:.0f} m for {len(slots)} lines", fontsize=9)
        axis.set_xlabel("x (m)")
        axis.set_ylabel("y (m)")
        axis.legend(fontsize=7, loc="upper right")
    return save_figure(fig, ctx, "warehouse_example_route", "Example pick route",
                       f"Test order {lines['order_id'].iloc[0]} on the forecast slotting; grey bands are aisles.")
