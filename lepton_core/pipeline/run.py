"""One run: load data -> fit baselines -> train with Lightning -> evaluate both -> report -> bundle."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf

from lepton_core.atomic import staging_dir
from lepton_core.errors import ConfigError, DataError, PluginError
from lepton_core.hooks.manager import PluginManager, get_plugin_manager
from lepton_core.hooks.specs import NO_MODEL, Evaluation, Export, RunContext, Stage, optional_call
from lepton_core.pipeline.outputs import (
    output_errors,
    publish_outputs,
    remove_stale_staging,
    restored_on_failure,
)

__all__ = ["RunResult", "run_pipeline"]

T = TypeVar("T")


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    evaluation: Evaluation | None
    bundle_dir: Path | None
    timings: dict[str, float] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)

    @property
    def primary_score(self) -> float | None:
        """The model's primary metric on the test split."""
        if self.evaluation is None:
            return None
        value = self.evaluation.metrics.get("model", {}).get(self.evaluation.primary_metric)
        return None if value is None else float(value)

    @property
    def sweep_score(self) -> float | None:
        """What sweepers optimise: the best validation value of ``task.monitor`` (the test split stays unseen).

        A task with nothing to train (a solver) has no validation score; its primary metric stands in.
        """
        return self.validation.get("best", self.primary_score)


class StageRunner:
    """Runs stages with the lifecycle hooks around them and records their wall times."""

    def __init__(self, manager: PluginManager, ctx: RunContext) -> None:
        self.manager = manager
        self.ctx = ctx
        self.timings: dict[str, float] = {}

    def __call__(self, stage: Stage, work: Callable[[], T]) -> T:
        """Run one stage: before hook, work, after hook; the on-error hook sees any failure."""
        hook = self.manager.hook
        hook.lepton_before_stage(ctx=self.ctx, stage=stage)
        start = time.perf_counter()
        try:
            result = work()
        except BaseException as exc:
            hook.lepton_on_error(ctx=self.ctx, stage=stage, error=exc)
            raise
        self.timings[stage] = time.perf_counter() - start
        hook.lepton_after_stage(ctx=self.ctx, stage=stage, result=result)
        return result


def _run_dir(cfg: DictConfig) -> Path:
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(str(cfg.paths.run_dir))


QUIET_WARNINGS = (
    r".*LeafSpec.*",
    r".*smaller than the logging interval.*",
    r".*does not have many workers.*",
    r".*litlogger.*",
)


def run_pipeline(cfg: DictConfig, manager: PluginManager | None = None) -> RunResult:
    """Run every stage for a composed config and return what it produced."""
    from lepton_core.pipeline.precheck import precheck_data, precheck_loggers

    precheck_data(cfg)  # before the heavy imports: a bad data.path fails in about a second
    precheck_loggers(cfg)
    import logging
    import warnings

    import lightning as L

    for pattern in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)

    disabled = {str(name) for name in cfg.get("disable_plugins") or []}
    if str(cfg.plugin.name) in disabled:
        raise ConfigError(f"plugin '{cfg.plugin.name}' is selected and disabled", "remove it from disable_plugins")
    manager = (manager or get_plugin_manager()).for_run(disabled=disabled)  # the shared manager stays as it is
    info, task = manager.resolve(str(cfg.plugin.name), str(cfg.task.name))
    run_dir = _run_dir(cfg)
    seed, threads = _whole_number(cfg, "seed", 0, MAX_SEED), _whole_number(cfg, "cpu_threads", 0)
    if seed is None:
        raise ConfigError("seed=null: a run needs a seed", f"set seed to an integer from 0 to {MAX_SEED}")
    with output_errors(run_dir), ExitStack() as guard:
        run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.get("resume"):
            remove_stale_staging(run_dir)
            print(f"resuming run {run_dir.resolve()} from checkpoints/last.ckpt", file=sys.stderr, flush=True)
            if os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) == "0":  # one rank restores
                guard.enter_context(restored_on_failure(run_dir))
        ctx = RunContext(cfg=cfg, plugin=info.name, task=task, run_dir=run_dir, seed=seed)
        L.seed_everything(ctx.seed, workers=True, verbose=False)
        if threads:
            limit_cpu_threads(threads)
        stage = StageRunner(manager, ctx)

        datamodule = stage("load", lambda: _load(manager, ctx))
        baselines = stage("baseline", lambda: _fit_baselines(manager, ctx, datamodule))
        model, trainer = stage("train", lambda: _train(manager, ctx, datamodule))
        if trainer is not None and not trainer.is_global_zero:
            return RunResult(run_dir, None, None, stage.timings)
        validation = _validation_summary(trainer, ctx)
        evaluation = stage("evaluate", lambda: _evaluate(manager, ctx, datamodule, model, baselines))
        # metrics.json, report.html and the bundle (and, on resume, .hydra/) are staged together and
        # published only when all are written: a run that fails there leaves the previous ones untouched.
        staged = staging_dir(run_dir / "outputs")
        try:
            stage("report", lambda: _report(ctx, evaluation, stage.timings, validation, staged))
            stage("bundle", lambda: _bundle(manager, ctx, datamodule, model, evaluation, staged))
            if cfg.get("resume"):
                _stage_hydra_files(cfg, staged)
            bundle_dir = publish_outputs(staged, run_dir)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        if trainer is not None:
            from lepton_core.pipeline.tracking import log_run_outputs

            log_run_outputs(trainer, evaluation, bundle_dir)
    from lepton_core.report.summary import print_summary

    print_summary(ctx, evaluation, bundle_dir, stage.timings)
    return RunResult(run_dir, evaluation, bundle_dir, stage.timings, validation)


MAX_SEED = 2**32 - 1  # what NumPy accepts; Lightning would silently replace a seed outside it by 0


def _whole_number(cfg: DictConfig, key: str, low: int, high: int | None = None) -> int | None:
    """``cfg[key]`` as an int within [low, high] (None stays None); anything else is a ConfigError naming the key."""
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise ConfigError(f"{key}={value!r} is not a whole number {bounds}", f"set {key} to an integer {bounds}")
    return value


def _stage_hydra_files(cfg: DictConfig, staged: Path) -> None:
    """The resumed run's .hydra files (Hydra wrote none: `lepton run resume=...` sets hydra.output_subdir=null)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return
    hydra_cfg = HydraConfig.get()
    folder = staged / ".hydra"
    folder.mkdir()
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg), "utf-8")
    (folder / "overrides.yaml").write_text(OmegaConf.to_yaml(hydra_cfg.overrides.task), "utf-8")
    (folder / "hydra.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create({"hydra": hydra_cfg})), "utf-8")


def limit_cpu_threads(threads: int) -> None:
    """Use ``threads`` threads in torch's intra-op pool and in BLAS/OpenMP pools (scikit-learn, statsmodels)."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)


def _load(manager: PluginManager, ctx: RunContext) -> Any:
    datamodule = manager.call(ctx.plugin, "lepton_build_datamodule", ctx=ctx)
    if datamodule is None:
        raise ConfigError(f"task '{ctx.task}' of plugin '{ctx.plugin}' builds no datamodule", "set data._target_")
    try:
        datamodule.prepare_data()
        datamodule.setup("fit")
    except FileNotFoundError as exc:
        raise DataError(f"file not found: {exc.filename or exc}", "check data.path") from exc
    return datamodule


def _fit_baselines(manager: PluginManager, ctx: RunContext, datamodule: Any) -> list[Any]:
    baselines = list(manager.call(ctx.plugin, "lepton_build_baselines", ctx=ctx, datamodule=datamodule))
    for baseline in baselines:
        baseline.fit(datamodule)
    return baselines


def _train(manager: PluginManager, ctx: RunContext, datamodule: Any) -> tuple[Any, Any]:
    from lepton_core.pipeline.training import (
        build_trainer,
        check_hyperparameters,
        check_resume_checkpoint,
        restore_best,
    )

    model = manager.call(ctx.plugin, "lepton_build_model", ctx=ctx, datamodule=datamodule)
    if model is NO_MODEL:
        return None, None
    if model is None:  # every implementation, the core's default included, passed
        raise ConfigError(
            f"task '{ctx.task}' of plugin '{ctx.plugin}' builds no model",
            "set model._target_, or model: null (NO_MODEL) for a task with nothing to train",
        )
    check_hyperparameters(model)
    ckpt_path = str(check_resume_checkpoint(ctx.run_dir, model)) if ctx.cfg.get("resume") else None
    trainer = build_trainer(ctx)
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    except MisconfigurationException as exc:  # Lightning's own word for a config problem (e.g. a monitor never logged)
        raise ConfigError(
            f"Lightning refused the training setup: {str(exc).strip().splitlines()[0]}",
            "check task.monitor, callbacks.* and trainer.* (`lepton config plugin=NAME` prints them)",
        ) from None
    if trainer.interrupted:
        raise KeyboardInterrupt
    restore_best(trainer, model)
    return model, trainer


def _evaluate(
    manager: PluginManager, ctx: RunContext, datamodule: Any, model: Any, baselines: list[Any]
) -> Evaluation:
    ctx.figures_dir.mkdir(parents=True, exist_ok=True)
    evaluation = manager.call(
        ctx.plugin, "lepton_evaluate", ctx=ctx, datamodule=datamodule, model=model, baselines=baselines
    )
    if evaluation is None:
        raise ConfigError(
            f"task '{ctx.task}' of plugin '{ctx.plugin}' has no evaluation",
            "set task.evaluate: 'package.module:function' in the task config, or implement lepton_evaluate",
        )
    if not isinstance(evaluation, Evaluation):
        raise PluginError(f"plugin '{ctx.plugin}': lepton_evaluate returned {type(evaluation).__name__}")
    summary = optional_call(datamodule, "summary", None)
    if evaluation.data_summary or summary is None:
        return evaluation
    from dataclasses import replace

    return replace(evaluation, data_summary=dict(summary))


def _validation_summary(trainer: Any, ctx: RunContext) -> dict[str, Any]:
    """The monitored validation metric of the weights kept: the checkpoint's best value, or, when no checkpoint
    selects on it (``callbacks.model_checkpoint.monitor: null``), its last value ({} if none)."""
    callback = getattr(trainer, "checkpoint_callback", None)
    best = getattr(callback, "best_model_score", None)
    if best is not None:
        return {"monitor": callback.monitor, "mode": callback.mode, "best": float(best)}
    monitor = ctx.cfg.task.get("monitor")
    last = getattr(trainer, "callback_metrics", {}).get(monitor) if monitor else None
    if last is None:
        return {}
    return {"monitor": monitor, "mode": ctx.cfg.task.get("monitor_mode", "min"), "best": float(last), "selected": "last epoch"}


def _report(
    ctx: RunContext, evaluation: Evaluation, timings: dict[str, float], validation: dict[str, Any], staged: Path
) -> Path:
    from lepton_core.report.html import write_report
    from lepton_core.report.metrics_file import write_metrics

    write_metrics(ctx, evaluation, timings, validation, path=staged / "metrics.json")
    return write_report(ctx, evaluation, timings, path=staged / "report.html")


def _bundle(
    manager: PluginManager, ctx: RunContext, datamodule: Any, model: Any, evaluation: Evaluation, staged: Path
) -> Path:
    from lepton_core.bundle.writer import write_bundle

    export = manager.call(
        ctx.plugin, "lepton_export", ctx=ctx, datamodule=datamodule, model=model, evaluation=evaluation
    )
    if not isinstance(export, Export):
        raise PluginError(f"plugin '{ctx.plugin}': lepton_export returned {type(export).__name__}, not Export")
    resolved = OmegaConf.to_container(ctx.cfg, resolve=True)
    return write_bundle(staged / "bundle", ctx, export, evaluation, resolved, manager)
