"""The real ``@hydra.main`` entry behind `lepton run` and `lepton config`: Hydra's whole command line works."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import hydra
from omegaconf import DictConfig

from lepton_core.config.searchpath import register_search_path_plugin
from lepton_core.errors import LeptonError

register_search_path_plugin()


@contextmanager
def _isolated_job() -> Iterator[None]:
    """Run one job so that Lightning's DDP launcher can re-run it and leaves nothing behind for the next job.

    The launcher starts ``python <sys.argv> hydra.run.dir=<hydra.run.dir>`` per extra rank: inside a job
    (also one of a ``-m`` sweep) that must be this job's own overrides and output directory, else the other
    ranks would start a new sweep or write to a new timestamped directory. It also sets LOCAL_RANK,
    WORLD_SIZE, MASTER_PORT... and leaves the process group open: both are undone after the job, so the next
    job of a sweep launches its own processes.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict, read_write

    hydra_cfg = HydraConfig.get()
    argv, environ = sys.argv, dict(os.environ)
    keep_hydra_files = [] if hydra_cfg.output_subdir is not None else ["hydra.output_subdir=null"]  # a resume
    sys.argv = [argv[0], *hydra_cfg.overrides.task, *keep_hydra_files]
    with read_write(hydra_cfg), open_dict(hydra_cfg):
        hydra_cfg.run.dir = hydra_cfg.runtime.output_dir
    try:
        yield
    finally:
        sys.argv = argv
        _close_process_group()
        for name in set(os.environ) - set(environ):
            del os.environ[name]
        os.environ.update(environ)


def _close_process_group() -> None:
    """Destroy the torch.distributed process group a DDP job left open."""
    if "torch" not in sys.modules:
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@hydra.main(version_base="1.3", config_path="pkg://lepton_core.configs", config_name="lepton")
def main(cfg: DictConfig) -> float | None:
    """Run the pipeline for one composed config; return its sweep score (best validation ``task.monitor``)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import InstantiationException

    from lepton_core.pipeline.outputs import marked_on_failure
    from lepton_core.pipeline.run import run_pipeline

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if os.environ.get("LOCAL_RANK", "0") != "0":  # a DDP rank Lightning started: its log says it ran
        import logging

        rank_log = logging.getLogger("lepton_core.ddp")
        rank_log.setLevel(logging.INFO)  # the root logger shows warnings only; this line is the rank's record
        rank_log.info("DDP rank %s of %s started", os.environ["LOCAL_RANK"], os.environ.get("WORLD_SIZE", "?"))
    try:
        with marked_on_failure(run_dir, resume=bool(cfg.get("resume"))), _isolated_job():
            if (cfg.get("launcher") or {}).get("name") == "spark":
                from lepton_core.spark.training import run_on_spark

                return run_on_spark(cfg)
            result = run_pipeline(cfg)
    except (LeptonError, InstantiationException) as exc:
        # a LeptonError raised by a constructor Hydra instantiated (a datamodule refusing an option) arrives
        # wrapped; unwrapped here, Hydra does not print its own "Error executing job" line above ours
        error = exc if isinstance(exc, LeptonError) else exc.__cause__
        if os.environ.get("LEPTON_DEBUG") or not isinstance(error, LeptonError):
            raise
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    return result.sweep_score
