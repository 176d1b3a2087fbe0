"""Domain-free forecasting for the long format ``unique_id, ds, y`` (+ covariates known in the future).

A forecasting task is mostly config on top of these pieces (see plugins/retail and plugins/logistics):

- :mod:`.series` — ``read_table``, ``prepare_series`` (validation: duplicates, non-numeric values,
  unparseable dates; regular grid; the rules for missing timestamps, short and all-zero series),
  ``infer_frequency``, ``season_length``.
- :mod:`.calendar` — ``calendar_features(timestamps, freq)`` chosen by the frequency.
- :mod:`.datamodule` — ``ForecastDataModule`` (file or demo data -> lag windows; split by forecast origin:
  train / validation / rolling-origin backtest; ``model_kwargs``, ``export_state``, ``input_example``)
  ; :mod:`.windows` — ``build_windows``, ``WindowBatch``; :mod:`.augment` — bootstrapped copies of short
  series for training (``augment_copies``).
- :mod:`.refit` — the network trained again on everything before the test (``task.refit``).
- :mod:`.model` — ``GlobalForecaster``: one MLP over all series' lag windows with quantile outputs
  and pinball loss; ``forecast_windows``.
- :mod:`.baselines` — ``SeasonalNaive``, ``ExponentialSmoothingBaseline`` and ``ThetaBaseline``
  (statsmodels), rebuilt from plain JSON by ``statistical_model_from_state``.
- :mod:`.combination` — ``select_combination``: the deployed forecaster (network, a statistical model or
  an equal-weight mean of several), chosen on validation origins; ``combine_forecasts``.
- :mod:`.metrics` — ``forecast_metrics``: MASE, sMAPE, WAPE, weighted quantile loss, coverage;
  per series and overall.
- :mod:`.evaluation` — ``evaluate_forecasts``: last horizon + backtest, plot, tables, forecasts.csv;
  returns the core ``Evaluation``; ``evaluate_forecast_task``, the same with ``task.metrics`` and
  ``task.refit``, is what a task's ``task.evaluate`` names, and ``export_forecasts`` its ``task.export``.
- :mod:`.predictor` — ``ForecastPredictor``: series history in -> dated median and quantiles out.

A task config then reads::

    data:      {_target_: lepton_core.forecasting.ForecastDataModule, horizon: 14, input_size: 56,
                path: null, demo: {...}, covariates: [], freq: null, missing: zero, seed: ${seed}}
    model:     {_target_: lepton_core.forecasting.GlobalForecaster, quantiles: [0.1, 0.5, 0.9]}
    baselines: {seasonal_naive: {_target_: lepton_core.forecasting.SeasonalNaive}}

the plugin registers the predictor in code, ``TaskInfo(name, summary, "lepton_core.forecasting:ForecastPredictor")``,
and the task config names the evaluation and the export: ``task: {evaluate: "lepton_core.forecasting:evaluate_forecast_task",
export: "lepton_core.forecasting:export_forecasts",
metrics: [mase, wape]}`` (``evaluate_forecasts`` with ``task.metrics``).
"""

from lepton_core.forecasting.baselines import (
    ExponentialSmoothingBaseline,
    SeasonalNaive,
    ThetaBaseline,
    seasonal_naive_forecast,
    statistical_model_from_state,
)
from lepton_core.forecasting.calendar import calendar_feature_count, calendar_features
from lepton_core.forecasting.combination import ForecastCombination, combine_forecasts, select_combination
from lepton_core.forecasting.datamodule import ForecastDataModule
from lepton_core.forecasting.evaluation import (
    OriginForecasts,
    backtest,
    evaluate_forecast_task,
    evaluate_forecasts,
    export_forecasts,
)
from lepton_core.forecasting.metrics import forecast_metrics, mase_scale
from lepton_core.forecasting.model import GlobalForecaster, forecast_windows, pinball
from lepton_core.forecasting.predictor import ForecastPredictor, SeriesForecast, SeriesHistory
from lepton_core.forecasting.series import (
    PreparedSeries,
    infer_frequency,
    prepare_series,
    read_table,
    season_length,
)
from lepton_core.forecasting.windows import WindowBatch, build_windows, minimum_length

__all__ = [
    "ExponentialSmoothingBaseline",
    "ForecastCombination",
    "ForecastDataModule",
    "ForecastPredictor",
    "GlobalForecaster",
    "OriginForecasts",
    "PreparedSeries",
    "SeasonalNaive",
    "SeriesForecast",
    "SeriesHistory",
    "ThetaBaseline",
    "WindowBatch",
    "backtest",
    "build_windows",
    "calendar_feature_count",
    "calendar_features",
    "combine_forecasts",
    "evaluate_forecast_task",
    "evaluate_forecasts",
    "export_forecasts",
    "forecast_metrics",
    "forecast_windows",
    "infer_frequency",
    "mase_scale",
    "minimum_length",
    "pinball",
    "prepare_series",
    "read_table",
    "season_length",
    "seasonal_naive_forecast",
    "select_combination",
    "statistical_model_from_state",
]
