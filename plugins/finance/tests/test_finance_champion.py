"""Champion selection on validation, the pickle-free baselines it deploys, calibration kept by ECE, fraud's metric."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from lepton_finance.champion import DeployedScorer, primary_metric, select_champion
from lepton_finance.data import FinanceDataModule
from lepton_finance.decision import fit_policy
from omegaconf import OmegaConf

from lepton_core.bundle import load_bundle
from lepton_core.errors import ConfigError
from lepton_core.tabular.baselines import GradientBoostingBaseline, LogisticBaseline, TreeScorer
from lepton_core.testing.cli import latest_run, run_lepton

CONFIGS = Path(__file__).resolve().parents[1] / "lepton_finance" / "configs" / "task" / "finance"
CREDIT = OmegaConf.create({"name": "credit_scoring", "threshold": None, "cost": {"false_negative": 5.0, "false_positive": 1.0}})


def _linear_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Logistic regression is the true model: three numerics and a categorical with additive effects."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    grade = rng.choice(["a", "b", "c"], n)
    logit = x @ np.array([1.2, -0.8, 0.5]) + pd.Series(grade).map({"a": -0.7, "b": 0.0, "c": 0.9}).to_numpy() - 1.0
    frame = pd.DataFrame(x, columns=["income", "utilisation", "tenure"])
    frame["grade"] = grade
    frame["bad"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


@pytest.fixture(scope="module")
def datamodule(tmp_path_factory: pytest.TempPathFactory) -> FinanceDataModule:
    path = tmp_path_factory.mktemp("linear") / "loans.csv"
    _linear_table().to_csv(path, index=False)
    dm = FinanceDataModule(path=str(path), target="bad", seed=0)
    dm.setup()
    return dm


def test_champion_is_the_baseline_when_it_is_better_on_validation(datamodule: FinanceDataModule) -> None:
    logistic = LogisticBaseline().fit(datamodule)
    inputs = tuple(datamodule.tensors["val"][:2])
    flat_network = np.zeros(len(datamodule.targets["val"]))  # a network that ranks nothing
    champion = select_champion(CREDIT, datamodule.targets["val"], flat_network, [logistic], inputs)
    assert champion.chosen.name == "logistic" and champion.metric == "roc_auc"
    assert [c.name for c in champion.candidates] == ["model", "logistic", "model+logistic"]
    assert champion.state()["baseline"]["kind"] == "logistic" and champion.files() == {}
    # the deployed scorer is the baseline itself: same log-odds as scikit-learn's model
    test_inputs = tuple(datamodule.tensors["test"][:2])
    deployed = DeployedScorer.from_state(json.loads(json.dumps(champion.state())), read_file=None)
    expected = np.log(logistic.predict(test_inputs)) - np.log1p(-logistic.predict(test_inputs))
    np.testing.assert_allclose(deployed.logits(None, test_inputs), expected, atol=1e-6)
    # reason codes of the logistic champion add up to the row's log-odds minus the average row's
    attributions = deployed.attributions(None, test_inputs, datamodule.preprocessor)
    reference = deployed.baseline.logits((datamodule.preprocessor.reference_numeric()[None, :], np.zeros((1, 1), int)))
    shares = datamodule.preprocessor.reference_category_shares()[0]
    average = reference[0] - deployed.baseline.categorical[0][0] + shares @ deployed.baseline.categorical[0]
    np.testing.assert_allclose(attributions.sum(axis=1), expected - average, atol=1e-6)


def test_the_network_stays_on_ties_and_a_forced_champion_is_deployed(datamodule: FinanceDataModule) -> None:
    logistic = LogisticBaseline().fit(datamodule)
    inputs = tuple(datamodule.tensors["val"][:2])
    same = logistic.scorer().logits(inputs)
    champion = select_champion(CREDIT, datamodule.targets["val"], same, [logistic], inputs)
    assert champion.chosen.name == "model"
    forced = select_champion({**CREDIT, "champion": "logistic"}, datamodule.targets["val"], same, [logistic], inputs)
    assert forced.chosen.name == "logistic"
    with pytest.raises(ConfigError, match="task.champion=forest"):
        select_champion({**CREDIT, "champion": "forest"}, datamodule.targets["val"], same, [logistic], inputs)


def test_gradient_boosting_model_file_is_text_and_loads_without_pickle(
    datamodule: FinanceDataModule, monkeypatch: pytest.MonkeyPatch
) -> None:
    boosting = GradientBoostingBaseline(max_iter=40, seed=0).fit(datamodule)
    inputs = tuple(datamodule.tensors["test"][:2])
    text = boosting.scorer().model_text()
    assert text.startswith("tree")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    reloaded = TreeScorer(text)
    np.testing.assert_allclose(reloaded.logits(inputs), boosting.scorer().logits(inputs), rtol=1e-12)
    attr_num, attr_cat = reloaded.contributions(inputs)
    bias = reloaded.booster.predict(TreeScorer.matrix(inputs), pred_contrib=True)[:, -1]
    np.testing.assert_allclose(attr_num.sum(1) + attr_cat.sum(1) + bias, reloaded.logits(inputs), atol=1e-9)


def test_calibration_is_kept_only_where_it_lowers_validation_ece() -> None:
    # calibrated already: 25% and 75% scores with exactly those positive rates (raw ECE 0) -> dropped
    logits = np.r_[np.full(400, np.log(1 / 3)), np.full(400, np.log(3))]
    y = np.r_[np.arange(400) < 100, np.arange(400) < 300].astype(int)
    kept = fit_policy(CREDIT, logits, y)
    assert not kept.calibrated and kept.slope == 1.0 and kept.ece_val_uncalibrated == pytest.approx(0.0)
    # overconfident and shifted scores -> Platt scaling lowers the ECE -> kept, both figures recorded
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.2, 3000)
    y = (rng.random(3000) < 1 / (1 + np.exp(-z))).astype(int)
    policy = fit_policy(CREDIT, 3 * z + 2, y)
    assert policy.calibrated and policy.ece_val_calibrated < policy.ece_val_uncalibrated
    assert 0.2 < policy.slope < 0.5


class _Fixed:
    """A fitted baseline whose validation log-odds are given."""

    def __init__(self, name: str, logits: np.ndarray) -> None:
        self.name = name
        self._logits = logits

    def scorer(self) -> _Fixed:
        return self

    def logits(self, inputs: object) -> np.ndarray:
        return self._logits


def test_fraud_is_decided_by_pr_auc_not_roc_auc() -> None:
    fraud = yaml.safe_load((CONFIGS / "fraud_detection.yaml").read_text())["task"]
    assert fraud["primary_metric"] == "pr_auc" and fraud["monitor"] == "val_pr_auc"
    assert primary_metric(OmegaConf.create({"name": "fraud_detection"})) == "pr_auc"
    assert primary_metric(OmegaConf.create({"name": "credit_scoring"})) == "roc_auc"
    # 20 frauds in 2000: the network ranks every fraud above most genuine rows (high ROC-AUC) but none
    # at the very top; the baseline puts half the frauds first and the rest at random (higher PR-AUC)
    rng = np.random.default_rng(1)
    y = np.zeros(2000, int)
    y[:20] = 1
    network = np.where(y == 1, rng.uniform(0.85, 0.99, 2000), rng.uniform(0, 1, 2000))
    baseline = np.where(y == 1, np.r_[np.full(10, 5.0), rng.uniform(0, 1, 10), np.zeros(1980)], rng.uniform(0, 1, 2000))
    task = OmegaConf.create({"name": "fraud_detection", "threshold": None, "cost": {"false_negative": 50.0, "false_positive": 1.0}})
    champion = select_champion(task, y, network, [_Fixed("logistic", baseline)], (np.zeros((2000, 1)), np.zeros((2000, 0))))
    scores = {c.name: c.val_score for c in champion.candidates}
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, network) > roc_auc_score(y, baseline)
    assert champion.metric == "pr_auc" and scores["logistic"] > scores["model"]
    assert champion.chosen.name != "model"


@pytest.mark.slow
@pytest.mark.parametrize("champion", ["logistic", "gradient_boosting"])
def test_lepton_predict_answers_with_the_deployed_baseline(tmp_path: Path, champion: str) -> None:
    frame = _linear_table(900, seed=3)
    frame.to_csv(tmp_path / "loans.csv", index=False)
    result = run_lepton(
        ["run", "plugin=finance", "debug=smoke", "data.path=loans.csv", "data.target=bad",
         f"task.champion={champion}", "baselines.gradient_boosting.max_iter=30"],
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Deployed: '{champion}', not the network" in result.stdout.replace("\n", " ")
    run_dir = latest_run(tmp_path, "finance", "credit_scoring")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["champion"]["name"] == champion and metrics["champion"]["selected_on"] == "validation"
    bundle = load_bundle(run_dir / "bundle")
    files = bundle.manifest["files"]
    assert ("gradient_boosting.lgb.txt" in files) == (champion == "gradient_boosting")
    rows = frame.drop(columns="bad").head(25)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    predicted = run_lepton(["predict", str(run_dir / "bundle"), "rows.csv", "-o", "scores.jsonl"], tmp_path)
    assert predicted.returncode == 0, predicted.stdout + predicted.stderr
    scores = [json.loads(line) for line in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert len(scores) == 25 and all(len(s["reason_codes"]) == 3 for s in scores)
    # the baseline's own predictions, refitted on the same split in this process
    dm = FinanceDataModule(path=str(tmp_path / "loans.csv"), target="bad", seed=42)
    dm.setup()
    baseline = LogisticBaseline() if champion == "logistic" else GradientBoostingBaseline(max_iter=30, seed=42)
    x_num, x_cat = dm.preprocessor.transform(rows)
    logits = baseline.fit(dm).scorer().logits((x_num, x_cat))
    decision = bundle.state["decision"]
    expected = 1 / (1 + np.exp(-(decision["slope"] * logits + decision["intercept"])))
    np.testing.assert_allclose([s["probability"] for s in scores], expected, rtol=1e-6, atol=1e-9)
