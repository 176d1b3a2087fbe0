"""lepton_core.tabular: reading tables, preprocessing, the network, attributions, datamodule, predictor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lepton_core.errors import ConfigError, DataError
from lepton_core.tabular import (
    TabularDataModule,
    TabularNet,
    TabularPredictor,
    TabularPreprocessor,
    column_attributions,
    design_matrix,
    read_table,
    row_model,
)


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.5, n)
    income[::10] = np.nan
    city = rng.choice(["paris", "lyon", "nice"], n).astype(object)
    city[::7] = None
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "day": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "income": income,
            "age": rng.integers(18, 80, n),
            "city": city,
            "eta": rng.normal(30, 5, n),
        }
    )


# ---------------------------------------------------------------- read_table


def test_read_table_csv_and_parquet(tmp_path: Path) -> None:
    frame = _frame(30)
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    assert read_table(tmp_path / "t.csv").shape == frame.shape
    assert read_table(tmp_path / "t.parquet").shape == frame.shape


def test_read_table_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "absent.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type '.xlsx'.*\.csv.*\.parquet"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no rows"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="cannot read parquet"):
        read_table(tmp_path / "bad.parquet")


# ---------------------------------------------------------------- preprocessor


def test_preprocessor_detects_kinds_and_round_trips() -> None:
    frame = _frame()
    pre = TabularPreprocessor().fit(frame, ["income", "age", "city"])
    assert pre.numeric == ["income", "age"] and pre.categorical == ["city"]
    assert pre.missing_indicators == ["income"]
    assert pre.feature_names == ["income", "age", "income_missing", "city"]
    assert pre.cardinalities == [4]
    x_num, x_cat = pre.transform(frame)
    assert x_num.dtype == torch.float32 and x_cat.dtype == torch.int64
    assert x_num.shape == (200, 3) and x_cat.shape == (200, 1)
    assert abs(float(x_num[:, 1].mean())) < 1e-5
    assert x_cat[0, 0] == 0  # missing city -> index 0
    clone = TabularPreprocessor.from_state(json.loads(json.dumps(pre.to_state())))
    assert torch.equal(clone.transform(frame)[0], x_num)


def test_preprocessor_overrides_and_unseen_categories() -> None:
    frame = _frame()
    pre = TabularPreprocessor().fit(frame, ["age", "city"], categorical=["age"])
    assert pre.categorical == ["age", "city"]
    new = pd.DataFrame({"age": [200, 30], "city": ["tokyo", "paris"]})
    _, x_cat = pre.transform(new)
    assert x_cat[0].tolist()[0] == 0 and x_cat[0, 1] == 0 and x_cat[1, 1] > 0


def test_preprocessor_errors() -> None:
    frame = _frame()
    frame["empty"] = np.nan
    with pytest.raises(DataError, match="'empty' has no values"):
        TabularPreprocessor().fit(frame, ["income", "empty"])
    pre = TabularPreprocessor().fit(frame, ["income", "city"])
    changed = frame.assign(income=frame["income"].astype(object))
    changed.loc[3, "income"] = "n/a"
    with pytest.raises(DataError, match="'income' changed type.*'n/a'"):
        pre.transform(changed)
    with pytest.raises(DataError, match="missing column.*city"):
        pre.transform(frame.drop(columns=["city"]))
    mixed = frame.assign(income=frame["income"].astype(object))
    mixed.loc[5, "income"] = "abc"
    with pytest.raises(DataError, match="'income' is numeric but has 1 text"):
        TabularPreprocessor().fit(mixed, ["income"])


# ---------------------------------------------------------------- network and attributions


def test_tabular_net_and_integrated_gradients_completeness() -> None:
    frame = _frame()
    pre = TabularPreprocessor().fit(frame, ["income", "age", "city"])
    x_num, x_cat = pre.transform(frame)
    torch.manual_seed(0)
    net = TabularNet(pre.n_numeric, pre.cardinalities, n_outputs=3, hidden=(16,)).eval()
    assert net(x_num, x_cat).shape == (200, 3)
    attributions = column_attributions(net, pre, x_num[:5], x_cat[:5], output_index=1, steps=64)
    assert attributions.shape == (5, 3)
    with torch.no_grad():
        ref_num = torch.as_tensor(pre.reference_numeric()).expand(5, -1)
        ref_emb = [torch.as_tensor(w) @ e.weight for w, e in zip(pre.reference_category_shares(), net.embeddings)]
        reference = net.forward_embedded(ref_num, [r.expand(5, -1) for r in ref_emb])[:, 1]
        gap = net(x_num[:5], x_cat[:5])[:, 1] - reference
    np.testing.assert_allclose(attributions.sum(axis=1), gap.numpy(), atol=2e-3)


def test_tabular_net_ensemble_members_and_their_mean() -> None:
    frame = _frame()
    pre = TabularPreprocessor().fit(frame, ["income", "age", "city"])
    x_num, x_cat = pre.transform(frame)
    torch.manual_seed(0)
    net = TabularNet(pre.n_numeric, pre.cardinalities, n_outputs=2, hidden=(16, 8), ensemble=4, linear_skip=False).eval()
    with torch.no_grad():
        members = net.forward_members(x_num, net.embed(x_cat))
        assert members.shape == (200, 4, 2)
        assert not torch.allclose(members[:, 0], members[:, 1])  # each member has its own input scaling and head
        torch.testing.assert_close(net(x_num, x_cat), members.mean(dim=1))
    single = TabularNet(pre.n_numeric, pre.cardinalities, hidden=(16,))
    assert not any("member" in name or "head" in name for name, _ in single.named_parameters())  # k=1 unchanged
    with pytest.raises(ValueError, match="ensemble=0"):
        TabularNet(pre.n_numeric, pre.cardinalities, ensemble=0)


def test_tabular_net_periodic_numeric_embeddings_learn_a_periodic_target() -> None:
    torch.manual_seed(0)
    x_num = torch.rand(512, 1) * 4 - 2
    y = torch.sin(3 * x_num[:, 0])  # no linear or ReLU-MLP of this size fits it well in 300 steps
    x_cat = torch.zeros(512, 0, dtype=torch.long)
    losses = {}
    for dim in (0, 8):
        torch.manual_seed(0)
        net = TabularNet(1, [], hidden=(16,), numeric_embedding=dim, frequency_scale=0.5)
        optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
        for _ in range(300):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(net(x_num, x_cat).squeeze(-1), y)
            loss.backward()
            optimiser.step()
        losses[dim] = float(loss)
    assert net.periodic is not None and net.mlp[0].in_features == 8
    assert losses[8] < 0.5 * losses[0], losses


def test_quantile_scaler_spreads_a_skewed_column_and_travels_in_the_state_dict() -> None:
    torch.manual_seed(0)
    amounts = torch.distributions.LogNormal(10.0, 1.5).sample((4000, 1))  # a skewed column, like credit limits
    standardised = (amounts - amounts.mean()) / amounts.std()
    net = TabularNet(1, [], hidden=(8,), quantile_bins=32)
    net.fit_quantiles(standardised)
    scaled = net.quantiles(standardised)[:, 0]
    def iqr(x: torch.Tensor) -> float:
        return float(x.quantile(0.75) - x.quantile(0.25))

    assert iqr(standardised) < 0.5 and abs(iqr(scaled) - 1.349) < 0.1  # the middle half no longer squeezed
    assert abs(float(scaled.median())) < 0.05
    assert 0.8 < float(scaled.std()) < 1.1 and float(scaled.abs().max()) < 2.5  # a (tail-clamped) normal scale
    order = standardised[:, 0].argsort()
    assert bool((scaled[order].diff() >= 0).all())  # monotone: ranks are kept
    net.fit_quantiles(standardised * 10)  # fitted once: a loaded model is not refitted
    torch.testing.assert_close(net.quantiles(standardised)[:, 0], scaled)
    rebuilt = TabularNet(1, [], hidden=(8,), quantile_bins=32)
    rebuilt.load_state_dict(net.state_dict())  # knots are buffers: they travel in the safetensors state
    x_cat = torch.zeros(4000, 0, dtype=torch.long)
    torch.testing.assert_close(rebuilt(standardised, x_cat), net(standardised, x_cat))


def test_design_matrix_one_hot() -> None:
    matrix = design_matrix(torch.ones(3, 2), torch.tensor([[0], [2], [1]]), [3])
    assert matrix.shape == (3, 5)
    assert matrix.toarray()[1].tolist() == [1, 1, 0, 0, 1]


# ---------------------------------------------------------------- datamodule and predictor


class EtaData(TabularDataModule):
    """A regression datamodule over the test frame."""

    def demo_frame(self) -> pd.DataFrame:
        return _frame(300)


def test_datamodule_random_and_time_splits() -> None:
    dm = EtaData(target="eta", id_column="id", drop=["day"], batch_size=64)
    dm.setup()
    sizes = {s: len(dm.frames[s]) for s in ("train", "val", "test")}
    assert sum(sizes.values()) == 300 and sizes["test"] == 45
    assert "day" not in dm.frames["train"].columns and "id" in dm.frames["train"].columns
    assert dm.preprocessor.columns == ["income", "age", "city"]
    x_num, _, y = next(iter(dm.train_dataloader()))
    assert x_num.shape == (64, 3) and y.dtype == torch.float32
    timed = EtaData(target="eta", time_column="day", id_column="id")
    timed.setup()
    assert timed.frames["train"]["id"].max() < timed.frames["test"]["id"].min()
    assert timed.summary()["split"] == "out-of-time on 'day'"


def test_datamodule_errors() -> None:
    with pytest.raises(DataError, match="target column 'nope' not found"):
        EtaData(target="nope").setup()
    with pytest.raises(ConfigError, match="no target"):
        EtaData().setup()
    with pytest.raises(DataError, match="data.drop names unknown"):
        EtaData(target="eta", drop=["ghost"]).setup()
    with pytest.raises(DataError, match="must be numeric"):
        EtaData(target="city").setup()
    with pytest.raises(DataError, match="'day' holds dates"):
        EtaData(target="eta").setup()
    with pytest.raises(ConfigError, match="no demo data"):
        TabularDataModule(target="eta").setup()


class EtaPredictor(TabularPredictor):
    """Returns the raw output."""

    def postprocess(self, outputs, items):
        return [{"eta": float(v)} for v in outputs[:, 0]]


def test_predictor_schema_and_errors() -> None:
    dm = EtaData(target="eta", id_column="id", drop=["day"])
    dm.setup()
    example = dm.input_example()
    model = row_model("EtaRow", dm.preprocessor, "id", example[0])
    predictor = EtaPredictor.with_input_model(model)(TabularNet(3, dm.preprocessor.cardinalities), dm.preprocessor, "id")
    schema = predictor.input_schema()
    assert set(schema["properties"]) == {"income", "age", "city", "id"}
    assert schema["examples"] == [example[0]]
    assert len(predictor.predict(example)) == 2
    with pytest.raises(DataError, match="field 'city'"):
        predictor.predict([{"income": 1.0, "age": 3}])
    with pytest.raises(DataError, match="field 'income'"):
        predictor.predict([{**example[0], "income": "abc"}])
    with pytest.raises(DataError, match="field 'extra'"):
        predictor.predict([{**example[0], "extra": 1}])
