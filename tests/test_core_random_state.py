"""Random states in checkpoints: saved and restored exactly, loadable with torch.load(weights_only=True)."""

from __future__ import annotations

import io
import random

import numpy as np
import torch

from lepton_core.pipeline.rng import RandomStateCheckpoint, get_random_state, set_random_state


def _draws() -> tuple[float, float, list[float]]:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_random_states_round_trip_through_a_checkpoint_file() -> None:
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    _draws()
    buffer = io.BytesIO()
    torch.save({"callbacks": {"rng": RandomStateCheckpoint().state_dict()}}, buffer)
    expected = _draws()
    _draws()  # move every generator on
    buffer.seek(0)
    callback = RandomStateCheckpoint()
    callback.load_state_dict(torch.load(buffer, weights_only=True)["callbacks"]["rng"])
    callback.on_train_start(None, None)  # type: ignore[arg-type]
    assert _draws() == expected
    callback.on_train_start(None, None)  # type: ignore[arg-type]  # applied once only
    assert _draws() != expected


def test_set_random_state_restores_numpy_gaussian_cache() -> None:
    np.random.seed(0)
    np.random.standard_normal()  # leaves a cached gaussian in the legacy state
    state = get_random_state()
    expected = np.random.standard_normal(3).tolist()
    set_random_state(state)
    assert np.random.standard_normal(3).tolist() == expected
