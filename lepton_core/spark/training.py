"""`lepton run ... launcher=spark`: the job's pipeline as Lightning DDP across Spark executors (TorchDistributor).

The driver (the Hydra job) resolves the config, pins ``paths.run_dir`` to its own run directory and asks
``pyspark.ml.torch.distributor.TorchDistributor`` for ``launcher.num_processes`` barrier tasks; each task
starts torchrun for one rank, which runs ``run_pipeline`` on the resolved config. Lightning reads torchrun's
environment (RANK, WORLD_SIZE, MASTER_ADDR...), so ``trainer.num_nodes`` ranks of ``trainer.devices=1``
each train their shard (a streamed Parquet table: each rank its own slice) and rank 0 evaluates and writes
metrics, report and bundle into the one run directory, as with ``trainer=ddp``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from lepton_core.errors import ConfigError, LeptonError

__all__ = ["driver_preprocessor_state", "run_on_spark", "train_rank"]


def train_rank(resolved: dict[str, Any]) -> dict[str, Any]:
    """One DDP rank (inside a Spark task, under torchrun): run the pipeline; rank 0's result reaches the driver."""
    from lepton_core.pipeline.run import run_pipeline

    result = run_pipeline(OmegaConf.create(resolved))
    return {"run_dir": str(result.run_dir), "sweep_score": result.sweep_score}


def driver_preprocessor_state(cfg: DictConfig, session: Any) -> dict[str, Any] | None:
    """With ``data.fit_engine=spark``: the preprocessing fitted once on the driver (ranks, inside Spark tasks,
    cannot start a session of their own); None otherwise."""
    if (cfg.get("data") or {}).get("fit_engine") != "spark":
        return None
    from hydra.utils import instantiate

    return instantiate(cfg.data).spark_fit_state(session)


def _run_dir() -> Path:
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir).resolve()


def run_on_spark(cfg: DictConfig) -> float | None:
    """Train the composed job on Spark with ``launcher.num_processes`` DDP ranks; return its sweep score."""
    from lepton_core.spark.session import get_session, lepton_error_from

    launcher = cfg.launcher
    processes = launcher.num_processes
    if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
        raise ConfigError(
            f"launcher.num_processes={processes!r} is not a positive integer", "set it to 1 or more"
        )
    if int(cfg.trainer.devices) != 1 or int(cfg.trainer.num_nodes) != processes:
        raise ConfigError(
            f"launcher=spark runs one rank per Spark task, but trainer.devices={cfg.trainer.devices} and "
            f"trainer.num_nodes={cfg.trainer.num_nodes}",
            "leave trainer.devices=1 and trainer.num_nodes=${launcher.num_processes} as launcher=spark sets them",
        )
    run_dir = _run_dir()
    resolved = OmegaConf.to_container(cfg, resolve=True)
    resolved["paths"]["run_dir"] = str(run_dir)
    session = get_session(
        launcher.master, "lepton-train", dict(launcher.conf or {}), default_master=f"local[{processes}]"
    )
    state = driver_preprocessor_state(cfg, session)
    if state is not None:
        resolved["data"]["preprocessor_state"] = state
    from pyspark.ml.torch.distributor import TorchDistributor

    distributor = TorchDistributor(num_processes=processes, local_mode=False, use_gpu=bool(launcher.use_gpu))
    try:
        result = distributor.run(train_rank, resolved)
    except LeptonError:
        raise
    except Exception as exc:  # a rank's LeptonError arrives inside Spark's exception text
        raised = lepton_error_from(exc)
        if raised is not None:
            raise raised from None
        raise
    return None if result is None else result["sweep_score"]
