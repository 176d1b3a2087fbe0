"""The real ``@hydra.main`` entry behind `lepton run` and `lepton config`: Hydra's whole command line works."""

from __future__ import annotations

import os
import sys

import hydra
from omegaconf import DictConfig

from lepton_core.config.searchpath import register_search_path_plugin
from lepton_core.errors import LeptonError

register_search_path_plugin()


@hydra.main(version_base="1.3", config_path="pkg://lepton_core.configs", config_name="lepton")
def main(cfg: DictConfig) -> float | None:
    """Run the pipeline for one composed config; return the model's primary metric (for sweepers)."""
    from lepton_core.pipeline.run import run_pipeline

    try:
        result = run_pipeline(cfg)
    except LeptonError as exc:
        if os.environ.get("LEPTON_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    return result.primary_score
