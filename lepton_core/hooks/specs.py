"""The Lepton plugin contract: every hook a plugin may implement, and the typed payloads they exchange.

A plugin is a module (or object) with ``@hookimpl`` functions, registered through the entry point
group ``lepton.plugins``. The hooks fall into five groups, one class each:

- ``DescribeSpecs``: who the plugin is. Called for every installed plugin; must be cheap (no torch import).
- ``DataSpecs``: build the LightningDataModule of a run.
- ``ModelSpecs``: build the LightningModule, the classical baselines, and evaluate both on the test split.
- ``DeploySpecs``: export what a bundle needs, and rebuild a predictor from a bundle.
- ``LifecycleSpecs``: before/after every pipeline stage and on error, for cross-cutting plugins.

The core calls the data, model and deploy hooks of the *selected* plugin only (plus the core's own
``trylast`` defaults, which build data and model from ``cfg.data`` / ``cfg.model`` with Hydra's
``instantiate``, and evaluate and export with the functions named by ``task.evaluate`` / ``task.export``),
so a vertical never checks "is this run mine?". Lifecycle hooks reach every plugin; a plugin that
declares no task (a tracker, an auditor) implements only those.

Every data, model and deploy hook is ``firstresult``: the call stops at the first non-None result, so
**None always means "no answer here, ask the next implementation"** (finally the core's default). A
task with nothing to train answers ``lepton_build_model`` with ``NO_MODEL``, never with None.

The objects the core calls on a run's datamodule are declared by ``DataModule``; a bundle's predictor is
a ``Predictor`` (re-exported here from ``lepton_core.deploy.predictor``, imported on first use).

Payloads are frozen dataclasses. ``CONTRACT_VERSION`` changes its major number on a breaking change;
a plugin declares the version it was written for in ``PluginInfo.contract_version``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from lepton_core.hooks.markers import hookspec

if TYPE_CHECKING:
    import lightning as L
    import torch
    from omegaconf import DictConfig

    from lepton_core.deploy.predictor import Predictor  # re-exported lazily by __getattr__

__all__ = [
    "CONTRACT_VERSION",
    "METRIC_DIRECTIONS",
    "NO_MODEL",
    "STAGES",
    "Baseline",
    "DataModule",
    "DataSpecs",
    "DeployContext",
    "DeploySpecs",
    "DescribeSpecs",
    "Evaluation",
    "Export",
    "Figure",
    "LifecycleSpecs",
    "ModelSpecs",
    "PluginInfo",
    "Predictor",
    "RunContext",
    "Stage",
    "Table",
    "TaskInfo",
    "is_baseline",
    "metric_direction",
]

CONTRACT_VERSION = "1.0"

ModuleT = TypeVar("ModuleT")

Stage = Literal["load", "baseline", "train", "evaluate", "report", "bundle"]
STAGES: tuple[Stage, ...] = ("load", "baseline", "train", "evaluate", "report", "bundle")


def __getattr__(name: str) -> Any:
    """``Predictor`` on first use: it imports torch, which ``import lepton_core`` must not."""
    if name == "Predictor":
        from lepton_core.deploy.predictor import Predictor

        return Predictor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _NoModel:
    """The type of ``NO_MODEL`` (compare with ``is``); copies and pickles stay the one instance."""

    def __repr__(self) -> str:
        return "NO_MODEL"

    def __reduce__(self) -> str:
        return "NO_MODEL"


#: What ``lepton_build_model`` returns for a task with nothing to train (a solver): training is skipped and
#: the later hooks receive ``model=None``. The core's default returns it when the config sets ``model: null``.
NO_MODEL = _NoModel()


# --------------------------------------------------------------------------------------------- payloads


@dataclass(frozen=True)
class TaskInfo:
    """One task a plugin offers: its name (a config under ``task/<plugin>/``) and a one-line summary.

    ``predictor`` is the installed ``package.module:Class`` (a ``Predictor`` with ``from_context``) that the
    core's default ``lepton_build_predictor`` builds for the task's bundles. It lives in code, never in a
    bundle: loading a bundle imports nothing the bundle names.
    """

    name: str
    summary: str
    predictor: str = ""


@dataclass(frozen=True)
class PluginInfo:
    """What ``lepton_describe`` returns: identity, tasks and the package that ships the plugin's configs.

    ``config_package`` is an importable package whose directory holds ``plugin/<name>.yaml`` and
    ``task/<name>/<task>.yaml``; it is added to Hydra's search path as ``pkg://<config_package>``.
    A lifecycle plugin (a tracker, an auditor) declares no task, no config package and no default task:
    ``PluginInfo(name, version, summary="...")``; it implements only the lifecycle hooks.
    """

    name: str
    version: str
    tasks: tuple[TaskInfo, ...] = ()
    config_package: str = ""
    default_task: str = ""
    summary: str = ""
    contract_version: str = CONTRACT_VERSION

    def task_names(self) -> list[str]:
        """Names of the plugin's tasks, in declaration order."""
        return [t.name for t in self.tasks]

    @property
    def lifecycle_only(self) -> bool:
        """True for a plugin without tasks: it serves every run through the lifecycle hooks only."""
        return not self.tasks


@dataclass(frozen=True)
class RunContext:
    """Everything a hook needs to know about the run it serves."""

    cfg: DictConfig
    plugin: str
    task: str
    run_dir: Path
    seed: int

    @property
    def figures_dir(self) -> Path:
        """Where report figures (PNG) are written."""
        return self.run_dir / "figures"


@dataclass(frozen=True)
class Figure:
    """A PNG written by the plugin for the report, with a title and an optional caption."""

    title: str
    path: Path
    caption: str = ""


@dataclass(frozen=True)
class Table:
    """A small table for the report (a decile table, per-class metrics, routes...)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""


#: Well-known metric names and their direction (True: greater is better). ``name@k`` (``hr@10``) takes the
#: direction of ``name``; ``sensitivity_<class>`` / ``specificity_<class>`` of ``sensitivity`` /
#: ``specificity``. A plugin adds or overrides names for its own runs with ``Evaluation.metric_directions``.
METRIC_DIRECTIONS: Mapping[str, bool] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "roc_auc", "pr_auc", "auc", "average_precision", "image_auroc", "pixel_auroc", "accuracy",
                "balanced_accuracy", "top_k_accuracy", "f1", "f1_macro", "f1_micro", "f1_weighted",
                "precision", "recall", "sensitivity", "specificity", "ks", "gini", "r2", "hr", "hit_rate",
                "ndcg", "map", "mrr",
            ),
            True,
        ),
        **dict.fromkeys(
            (
                "rmse", "mae", "mse", "mape", "wape", "smape", "mase", "rmsse", "ece", "brier", "log_loss",
                "expected_cost", "cost_per_part", "false_reject_rate", "false_positive_rate",
                "quantile_loss", "pinball_loss", "crps", "phm08_score", "phm08_per_window", "plan_cost",
            ),
            False,
        ),
    }
)


def metric_direction(name: str, overrides: Mapping[str, bool] | None = None) -> bool | None:
    """True when greater is better for metric ``name``, False when lower is, None when unknown."""
    table = {**METRIC_DIRECTIONS, **(overrides or {})}
    base, at, _ = name.partition("@")
    prefix = name.split("_", 1)[0]
    if name in table:
        return bool(table[name])
    if at and base in table:
        return bool(table[base])
    if prefix in ("sensitivity", "specificity"):
        return bool(table[prefix])
    return None


def is_baseline(contender: str) -> bool:
    """True for a baseline; False for ``model`` and its own variants (``network`` alone, ``model+<baseline>`` blends)."""
    return contender not in ("model", "network") and not contender.startswith("model+")


@dataclass(frozen=True)
class Evaluation:
    """Test-split results: metrics per contender (``model`` and each baseline by name), figures and tables.

    ``primary_metric`` decides who wins; the report says plainly when a baseline beats the model, on the
    primary metric and on every other metric whose direction is known (``metric_directions``, metric ->
    greater is better, adds to or overrides the core's ``METRIC_DIRECTIONS``; the primary metric's
    direction is always ``greater_is_better``).
    """

    metrics: Mapping[str, Mapping[str, float]]
    primary_metric: str
    greater_is_better: bool = True
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    data_summary: Mapping[str, Any] = field(default_factory=dict)
    # what the bundle deploys when a plugin picks it among several contenders on validation (name, how
    # it was selected...); empty when the bundle simply deploys ``model``. Written to metrics.json.
    champion: Mapping[str, Any] = field(default_factory=dict)
    metric_directions: Mapping[str, bool] = field(default_factory=dict)
    # what the evaluation fitted on validation data and the bundle must deploy (a calibrator, a decision
    # threshold, the chosen champion), by name; handed to ``lepton_export`` in memory, never written out.
    fitted: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def direction(self, metric: str) -> bool | None:
        """True when greater is better for ``metric``, False when lower is, None when unknown."""
        if metric == self.primary_metric:
            return self.greater_is_better
        return metric_direction(metric, self.metric_directions)

    def baseline_wins_by_metric(self) -> dict[str, list[str]]:
        """For each baseline that beats the model anywhere, the metrics (primary first) where it scores
        strictly better; metrics of unknown direction and missing or non-finite values are not compared."""
        model = self.metrics.get("model")
        if model is None:
            return {}
        names = [self.primary_metric, *(m for m in model if m != self.primary_metric)]
        wins: dict[str, list[str]] = {}
        for baseline, scores in self.metrics.items():
            if not is_baseline(baseline):
                continue
            won = []
            for metric in names:
                greater = self.direction(metric)
                mine, theirs = model.get(metric), scores.get(metric)
                if greater is None or mine is None or theirs is None:
                    continue
                mine, theirs = float(mine), float(theirs)
                if not (math.isfinite(mine) and math.isfinite(theirs)):
                    continue
                if (theirs > mine) if greater else (theirs < mine):
                    won.append(metric)
            if won:
                wins[baseline] = won
        return wins

    def best_baseline(self) -> tuple[str, float] | None:
        """The baseline with the best primary metric, or None when there is none."""
        scores = [
            (name, float(m[self.primary_metric]))
            for name, m in self.metrics.items()
            if is_baseline(name) and self.primary_metric in m
        ]
        if not scores:
            return None
        pick = max if self.greater_is_better else min
        return pick(scores, key=lambda s: s[1])

    def baseline_wins(self) -> bool:
        """True when the best baseline scores strictly better than the model on the primary metric."""
        best = self.best_baseline()
        model = self.metrics.get("model", {}).get(self.primary_metric)
        if best is None or model is None:
            return False
        return best[1] > model if self.greater_is_better else best[1] < model


@dataclass(frozen=True)
class Export:
    """What the bundle stage needs from a trained run.

    ``module``'s state dict goes to ``weights.safetensors`` (None for tasks without weights, such as a
    solver); ``model_kwargs`` are its plain constructor arguments (JSON scalars, lists and dicts), stored in
    the manifest for ``DeployContext.build_model`` (default: the module's ``hparams`` from
    ``save_hyperparameters()``); ``state`` (JSON-serialisable) goes to ``preprocess.json``; ``input_example`` is a list of
    items the predictor accepts, stored in the manifest and used to smoke-test the bundle.
    ``reference_inputs`` (optional) are raw training input items, shaped like ``input_example``
    (a few thousand is plenty): the bundle stores only their profile (``drift_reference.json``:
    quantile bins, category frequencies, never the rows), which ``lepton serve`` compares live inputs
    against (per-feature PSI in /metrics and /info). ``files`` (optional) are extra bundle files by
    plain name (a tree model in a safe text format...), hashed in the manifest like the others; the
    plugin's predictor reads them itself from ``DeployContext.bundle_dir``.
    """

    module: torch.nn.Module | None
    state: Mapping[str, Any]
    input_example: Sequence[Mapping[str, Any]]
    reference_inputs: Sequence[Mapping[str, Any]] = ()
    model_kwargs: Mapping[str, Any] | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployContext:
    """What ``lepton_build_predictor`` receives: the bundle's resolved config, preprocessing state and manifest.

    All of it comes from the bundle, so it is plain data (read-only config, no interpolations): use it
    for values, never for names of things to import or instantiate.
    """

    cfg: DictConfig
    state: Mapping[str, Any]
    manifest: Mapping[str, Any]
    bundle_dir: Path
    plugin_info: PluginInfo | None = None

    @property
    def task(self) -> str:
        """The task the bundle was trained for."""
        return str(self.manifest["task"])

    @property
    def plugin(self) -> str:
        """The plugin that built the bundle."""
        return str(self.manifest["plugin"]["name"])

    def build_model(self, cls: type[ModuleT], **overrides: Any) -> ModuleT:
        """Build the installed class ``cls`` from the bundle's plain ``model_kwargs`` (``overrides``, from code, win)."""
        from lepton_core.bundle.plain import check_plain
        from lepton_core.errors import BundleError, LeptonError

        kwargs = self.manifest.get("model_kwargs")
        if not isinstance(kwargs, Mapping):
            raise BundleError(
                "bundle records no model constructor arguments (model_kwargs in lepton.json)",
                "rebuild the bundle with this version of lepton",
            )
        check_plain(dict(kwargs), "model_kwargs of the bundle manifest")
        try:
            return cls(**{**kwargs, **overrides})
        except LeptonError:
            raise
        except Exception as exc:  # noqa: BLE001 - any constructor failure means the bundle does not fit the code
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise BundleError(
                f"bundle's model_kwargs do not fit the installed {cls.__name__} ({reason})",
                "install the plugin version that built the bundle, or rebuild it",
            ) from None


class DataModule(Protocol):
    """What the core calls on a run's datamodule (a ``LightningDataModule``).

    ``prepare_data`` and ``setup`` are required (Lightning's own). The others are optional: the core calls
    each only when the datamodule has it (``DATAMODULE_OPTIONAL``), through ``optional_call``:
    ``model_kwargs`` (keyword arguments for ``cfg.model``, such as feature and class counts),
    ``export_state`` (fitted preprocessing, JSON, for ``preprocess.json``), ``input_example`` (items the
    predictor accepts), ``reference_inputs`` (raw training items for the drift profile) and ``summary``
    (rows, columns, classes... for the report). ``export_demo(path)``, also optional, writes the demo data
    for ``lepton data export``.
    """

    def prepare_data(self) -> None:
        """Download nothing; check that the configured files exist (one process)."""
        ...

    def setup(self, stage: str) -> None:
        """Read, validate and split the data; bad input raises ``lepton_core.errors.DataError``."""
        ...

    def model_kwargs(self) -> Mapping[str, Any]:
        """Optional: keyword arguments the default ``lepton_build_model`` adds to ``cfg.model``."""
        ...

    def export_state(self) -> Mapping[str, Any]:
        """Optional: the fitted preprocessing state (JSON) that the default export puts in the bundle."""
        ...

    def input_example(self) -> Sequence[Mapping[str, Any]]:
        """Optional: items the predictor accepts, stored in the manifest and run at bundle time."""
        ...

    def reference_inputs(self) -> Sequence[Mapping[str, Any]]:
        """Optional: raw training items shaped like ``input_example``, profiled for drift monitoring."""
        ...

    def summary(self) -> Mapping[str, Any]:
        """Optional: a few facts about the data (rows, columns, classes) for the report."""
        ...

    def export_demo(self, path: Path) -> Path:
        """Optional: write the task's demo data to ``path`` in the format users bring (`lepton data export`)."""
        ...


#: The optional ``DataModule`` methods, each called only when the datamodule defines it.
DATAMODULE_OPTIONAL = ("model_kwargs", "export_state", "input_example", "reference_inputs", "summary")


def optional_call(datamodule: Any, method: str, default: Any) -> Any:
    """``datamodule.<method>()`` for an optional ``DataModule`` method, or ``default`` when it has none."""
    if method not in DATAMODULE_OPTIONAL:
        raise ValueError(f"{method} is not an optional DataModule method ({', '.join(DATAMODULE_OPTIONAL)})")
    found = getattr(datamodule, method, None)
    return default if found is None else found()


@runtime_checkable
class Baseline(Protocol):
    """A classical reference model, scikit-learn style, fitted on the run's datamodule before training."""

    name: str

    def fit(self, datamodule: Any) -> Baseline:
        """Fit on the datamodule's training (and, if needed, validation) split; return self."""
        ...

    def predict(self, inputs: Any) -> Any:
        """Predict for inputs in the form the plugin's evaluation uses."""
        ...


# --------------------------------------------------------------------------------------------- hooks


class DescribeSpecs:
    """Identity of a plugin. Must be cheap: ``lepton plugins`` and ``lepton --help`` never import torch."""

    @hookspec
    def lepton_describe(self) -> PluginInfo:
        """Return the plugin's name, version, tasks and config package."""


class DataSpecs:
    """Data of a run."""

    @hookspec(firstresult=True)
    def lepton_build_datamodule(self, ctx: RunContext) -> DataModule | None:
        """Build the run's LightningDataModule (default: ``instantiate(cfg.data)``).

        The pipeline then calls ``prepare_data()`` and ``setup("fit")`` (the ``load`` stage): that is where
        data is loaded and validated, and where a bad input raises ``lepton_core.errors.DataError``. The
        optional methods the core uses are declared by ``DataModule``.

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """


class ModelSpecs:
    """Models of a run: the network, its classical baselines, and the evaluation of both."""

    @hookspec(firstresult=True)
    def lepton_build_model(self, ctx: RunContext, datamodule: DataModule) -> L.LightningModule | _NoModel | None:
        """Build the LightningModule to train (default: ``instantiate(cfg.model, **datamodule.model_kwargs())``).

        Called after the datamodule is set up, so sizes (features, classes) can come from the data.
        Return ``NO_MODEL`` for a task with nothing to train (a solver; the default does for ``model: null``):
        training is skipped and the later hooks receive ``model=None``.

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """

    @hookspec(firstresult=True)
    def lepton_build_baselines(self, ctx: RunContext, datamodule: DataModule) -> Sequence[Baseline] | None:
        """Build the task's classical baselines, unfitted (default: ``instantiate`` each of ``cfg.baselines``).

        An empty list means "no baselines".

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """

    @hookspec(firstresult=True)
    def lepton_evaluate(
        self,
        ctx: RunContext,
        datamodule: DataModule,
        model: L.LightningModule | None,
        baselines: Sequence[Baseline],
    ) -> Evaluation | None:
        """Score the trained model and the fitted baselines on the held-out test split.

        Write figures under ``ctx.figures_dir`` and return them in the Evaluation; put what the bundle
        needs from the evaluation (a fitted calibrator, a threshold) in ``Evaluation.fitted``. Default: the
        function named by ``task.evaluate`` (``"package.module:function"``), called with the arguments of
        this hook that it names; a task with neither an implementation nor ``task.evaluate`` fails.

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """


class DeploySpecs:
    """What a bundle carries and how it becomes a predictor again."""

    @hookspec(firstresult=True)
    def lepton_export(
        self,
        ctx: RunContext,
        datamodule: DataModule,
        model: L.LightningModule | None,
        evaluation: Evaluation,
    ) -> Export | None:
        """Return the module whose weights go in the bundle, the fitted preprocessing state and an input example.

        ``evaluation`` is the run's Evaluation: reuse what it fitted (``evaluation.fitted``) rather than
        fitting it again. Default: the function named by ``task.export`` (``"package.module:function"``,
        called with the arguments of this hook that it names), else the model with the datamodule's
        ``export_state()``, ``input_example()`` and ``reference_inputs()``.

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """

    @hookspec(firstresult=True)
    def lepton_build_predictor(self, ctx: DeployContext) -> Predictor | None:
        """Rebuild the predictor from installed code and the bundle's config and state.

        The core then loads ``weights.safetensors`` into ``predictor.module`` (strictly) and switches it
        to eval mode. Called at bundle time too, to derive the schema and check the input example.
        Default: the task's ``TaskInfo.predictor`` class, built by its ``from_context(ctx)``.

        ``firstresult``: the call stops at the first non-None result; None means "no answer, ask the next
        implementation" (finally the core's default).
        """


class LifecycleSpecs:
    """Cross-cutting hooks (tracking, privacy, alerts). Every registered plugin receives them; not firstresult."""

    @hookspec
    def lepton_before_stage(self, ctx: RunContext, stage: Stage) -> None:
        """Called before each pipeline stage."""

    @hookspec
    def lepton_after_stage(self, ctx: RunContext, stage: Stage, result: Any) -> None:
        """Called after each pipeline stage with what it produced.

        ``load``: the datamodule; ``baseline``: the fitted baselines; ``train``: ``(model, trainer)``, both
        None for a task with nothing to train; ``evaluate``: the Evaluation; ``report`` and ``bundle``: a path.
        """

    @hookspec
    def lepton_on_error(self, ctx: RunContext, stage: Stage, error: BaseException) -> None:
        """Called when a stage raises, before the error propagates."""
