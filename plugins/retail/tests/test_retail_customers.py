"""Customer behaviour: BG/NBD and Gamma-Gamma recover known parameters, the loader's rules, encoding, RFM, schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lepton_retail.customers.btyd import BGNBD, GammaGamma
from lepton_retail.customers.data import CustomerDataModule, normalise_transactions
from lepton_retail.customers.features import daily_purchases, encode_customers, rfm_scores, rfm_segments
from lepton_retail.customers.predictor import CustomerHistory
from pydantic import ValidationError

from lepton_core.errors import DataError


def _simulate_bgnbd(n: int, r: float, alpha: float, a: float, b: float, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(x, t_x, T, holdout purchases over 26 weeks) of customers drawn from BG/NBD."""
    rng = np.random.default_rng(seed)
    rate, dropout = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    T = rng.uniform(20, 52, n)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rate[i])
            if t > T[i] + 26:
                break
            if t <= T[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                future[i] += 1
            if rng.random() < dropout[i]:
                break
    return x, t_x, T, future


def test_bgnbd_recovers_parameters_and_predicts_the_holdout() -> None:
    x, t_x, T, future = _simulate_bgnbd(4000, r=0.6, alpha=4.0, a=0.8, b=3.0)
    model = BGNBD().fit(x, t_x, T)
    # the rate parameters are well identified; of the dropout beta, its mean a / (a + b) is
    assert np.allclose([model.r, model.alpha], [0.6, 4.0], rtol=0.1)
    assert model.a / (model.a + model.b) == pytest.approx(0.8 / 3.8, abs=0.03)
    expected = model.expected_purchases(26, x, t_x, T)
    assert abs(expected.mean() / future.mean() - 1) < 0.1
    silent = model.p_no_purchase(26, x, t_x, T)
    assert abs(silent.mean() - (future == 0).mean()) < 0.03
    assert np.all((model.p_alive(x, t_x, T) > 0) & (model.p_alive(x, t_x, T) <= 1))


def test_gamma_gamma_recovers_parameters() -> None:
    rng = np.random.default_rng(1)
    p, q, v = 6.0, 4.0, 15.0
    rate = rng.gamma(q, 1 / v, 3000)
    x = rng.integers(1, 12, 3000)
    m = np.array([rng.gamma(p, 1 / nu, k).mean() for nu, k in zip(rate, x)])
    model = GammaGamma().fit(x, m)
    assert abs(model.p * model.v / (model.q - 1) / (p * v / (q - 1)) - 1) < 0.1  # population mean spend
    assert abs(model.q / q - 1) < 0.15  # the spread of customers' mean spend (p and v trade off with few purchases)
    spend = model.expected_spend(np.array([0, 1, 20]), np.array([0.0, 100.0, 100.0]))
    assert spend[0] == pytest.approx(model.p * model.v / (model.q - 1))
    assert spend[1] < spend[2] < 100.0 * 1.05  # more purchases: closer to the customer's own mean


def _log(customers: int = 60, days: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        (f"c{c}", pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(d)), round(float(rng.gamma(3, 10)), 2))
        for c in range(customers)
        for d in np.sort(rng.choice(days if c % 2 else days // 2, rng.integers(2, 12), replace=False))
    ]
    return pd.DataFrame(rows, columns=["Customer ID", "InvoiceDate", "revenue"])


def test_loader_finds_columns_and_splits_by_cutoff() -> None:
    module = CustomerDataModule(demo=_log(), holdout_days=100, min_customers=10)
    module.setup()
    assert len(module.customer_ids) == 60
    assert set(module.churn) == {0.0, 1.0}
    assert np.all(module.clv[module.churn == 1] == 0) and np.all(module.clv[module.churn == 0] > 0)
    assert len(set(module.train_index) | set(module.val_index) | set(module.test_index)) == 60
    last = (pd.Timestamp(_log()["InvoiceDate"].max()) - pd.Timestamp("1970-01-01")).days
    assert module.cutoff_day == last - 100


def test_quantity_times_price_gives_the_amount() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "a"], "date": ["2024-01-01", "2024-01-05"], "Quantity": [2, 3], "Price": [1.5, 2.0]})
    out, dropped = normalise_transactions(frame)
    assert out["amount"].tolist() == [3.0, 6.0] and dropped == 0


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [
        (lambda f: f.drop(columns="revenue"), {}, r"no amount column"),
        (lambda f: f.assign(InvoiceDate=f["InvoiceDate"].astype(str).where(f.index != 3, "31/31/2024")), {}, r"unparseable dates like '31/31/2024'"),
        (lambda f: f.assign(revenue=f["revenue"].where(f.index != 5, -12.0)), {}, r"1 transactions have a negative amount"),
        (lambda f: f, {"cutoff": "2022-06-01"}, r"data.cutoff=2022-06-01 .* does not fit"),
        (lambda f: f, {"cutoff": "2023-12-20"}, r"does not fit"),
        (lambda f: f, {"min_customers": 500}, r"only 60 customers bought before the cut-off"),
        (lambda f: f.assign(revenue="x"), {}, r"column 'revenue' is not numeric"),
    ],
)
def test_bad_logs_are_one_line_errors(change, options, message) -> None:
    module = CustomerDataModule(demo=change(_log()), **{"holdout_days": 100, "min_customers": 10, **options})
    with pytest.raises(DataError, match=message):
        module.setup()


def test_negative_amounts_can_be_left_out() -> None:
    frame = _log().assign(revenue=lambda f: f["revenue"].where(f.index % 7 != 0, -5.0))
    module = CustomerDataModule(demo=frame, holdout_days=100, min_customers=10, negative_amounts="drop")
    module.setup()
    assert module.dropped_negative == int((frame["revenue"] < 0).sum()) > 0


def test_encoding_of_one_history() -> None:
    orders = pd.DataFrame({"customer": [0, 0, 0, 0], "day": [10, 10, 17, 31], "amount": [5.0, 5.0, 20.0, 30.0]})
    arrays = encode_customers(daily_purchases(orders), as_of=45, max_events=2)
    columns = ["x", "t_x", "T", "m", "recency_days", "purchases"]
    assert arrays.summary.loc[0, columns].tolist() == [2, 3.0, 5.0, 25.0, 14, 3]
    # the last two purchase days, oldest first: gaps 7 and 14 days, amounts 20 and 30
    assert np.allclose(np.expm1(arrays.events[0, :, 0]), [7, 14]) and np.allclose(np.expm1(arrays.events[0, :, 1]), [20, 30])


def test_rfm_grid() -> None:
    summary = pd.DataFrame({"recency_days": [1, 400, 1, 400], "purchases": [50, 50, 1, 1], "mean_amount": [10, 10, 10, 10]})
    edges = {"recency_days": [10, 20, 30, 40], "purchases": [2, 3, 4, 5], "mean_amount": [5, 8, 12, 20]}
    scores = rfm_scores(summary, edges)
    assert scores["r"].tolist() == [5, 1, 5, 1] and scores["f"].tolist() == [5, 5, 1, 1] and scores["m"].tolist() == [3] * 4
    assert rfm_segments(scores).tolist() == ["Champions", "Can't lose them", "New customers", "Hibernating"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"dates": ["2024-01-01", "2024-03-01"], "amounts": [1.0, 2.0]}, "after as_of"),
        ({"dates": ["2024-01-01"], "amounts": [1.0, 2.0]}, "one value per purchase"),
        ({"dates": ["2024-01-01"], "amounts": [-1.0]}, "refunds"),
        ({"dates": ["soon"], "amounts": [1.0]}, "dates like YYYY-MM-DD"),
        ({"dates": ["2024-01-01"] * 5001, "amounts": [1.0] * 5001}, "at most 5000"),
    ],
)
def test_history_schema_rejects(item, message) -> None:
    with pytest.raises(ValidationError, match=message):
        CustomerHistory.model_validate({"customer_id": "c1", "as_of": "2024-02-01", **item})
