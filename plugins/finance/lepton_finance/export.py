"""What a finance bundle carries: the network, the preprocessing, the champion chosen by the evaluation and its policy."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export


def export(datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The TabularNet, preprocessing, the evaluation's champion and its decision policy, example rows, a drift reference."""
    champion = evaluation.fitted["champion"]
    state = {**datamodule.export_state(), "decision": champion.chosen.policy.to_state(), "champion": champion.state()}
    hp = model.hparams
    net_kwargs = {
        "n_numeric": int(hp.n_numeric),
        "cardinalities": [int(c) for c in hp.cardinalities],
        "n_outputs": 1,
        "hidden": [int(h) for h in hp.hidden],
        "dropout": float(hp.dropout),
        "max_embedding_dim": int(hp.max_embedding_dim),
        "linear_skip": bool(hp.linear_skip),
        "ensemble": int(hp.get("ensemble", 1)),
    }
    return Export(
        module=model.net,
        model_kwargs=net_kwargs,
        state=state,
        input_example=datamodule.input_example(),
        reference_inputs=datamodule.reference_inputs(),
        files=champion.files(),
    )
