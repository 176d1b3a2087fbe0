"""What a finance bundle carries: the network, the preprocessing, the champion chosen by the evaluation and its policy."""

from __future__ import annotations

from typing import Any

from lepton_core import Evaluation, Export


def export(datamodule: Any, model: Any, evaluation: Evaluation) -> Export:
    """The TabularNet, preprocessing, the evaluation's champion and its decision policy, example rows, a drift reference."""
    champion = evaluation.fitted["champion"]
    state = {**datamodule.export_state(), "decision": champion.chosen.policy.to_state(), "champion": champion.state()}
    return Export(
        module=model.net,
        model_kwargs=model.net_kwargs(),
        state=state,
        input_example=datamodule.input_example(),
        reference_inputs=datamodule.reference_inputs(),
        files=champion.files(),
    )
