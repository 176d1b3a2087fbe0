"""Unit tests of the recommendation task: file layouts, bad inputs, leave-last-out split, metrics, model, predictor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from lepton_retail.demo import make_interactions
from lepton_retail.recommendation.data import (
    InteractionsDataModule,
    normalise_interactions,
    read_interactions,
)
from lepton_retail.recommendation.metrics import ranking_metrics, target_ranks
from lepton_retail.recommendation.model import BPRRecommender, PopularityBaseline
from lepton_retail.recommendation.predictor import RecommendationPredictor

from lepton_core.errors import DataError

ROWS = [(1, 10, 5, 100), (1, 11, 3, 300), (1, 12, 4, 200), (2, 10, 4, 50), (2, 13, 2, 60), (2, 11, 5, 70)]


def test_movielens_ratings_csv_layout(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    pd.DataFrame(ROWS, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(path, index=False)
    frame = normalise_interactions(read_interactions(path))
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    assert frame[frame.user == "1"]["item"].tolist() == ["10", "12", "11"]


def test_movielens_u_data_layout(tmp_path: Path) -> None:
    path = tmp_path / "u.data"
    path.write_text("\n".join("\t".join(map(str, row)) for row in ROWS) + "\n")
    frame = normalise_interactions(read_interactions(path))
    assert len(frame) == 6 and frame["rating"].max() == 5


def test_movielens_ratings_dat_layout(tmp_path: Path) -> None:
    path = tmp_path / "ratings.dat"
    path.write_text("\n".join("::".join(map(str, row)) for row in ROWS) + "\n")
    assert len(normalise_interactions(read_interactions(path))) == 6


def test_movielens_u_data_through_the_datamodule(tmp_path: Path) -> None:
    frame = make_interactions(n_users=120, n_items=50, seed=4)
    (tmp_path / "u.data").write_text(frame.to_csv(sep="\t", header=False, index=False))
    module = InteractionsDataModule(path=str(tmp_path / "u.data"), min_rating=3)
    module.setup()
    assert module.n_users == 120 and module.interactions == int((frame["rating"] >= 3).sum())


def test_empty_interactions_file_is_a_data_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="interactions file .*empty.csv is empty"):
        read_interactions(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("user,item\n")
    with pytest.raises(DataError, match="has a header but no rows"):
        read_interactions(header_only)


def test_bad_interaction_columns_are_data_errors() -> None:
    with pytest.raises(DataError, match="no item column"):
        normalise_interactions(pd.DataFrame({"user": [1], "thing": [2]}))
    with pytest.raises(DataError, match=r"column 'rating' is not numeric \(1 rows like 'great'\)"):
        normalise_interactions(pd.DataFrame({"user": [1, 2], "item": [1, 2], "rating": [4, "great"]}))
    with pytest.raises(DataError, match="timestamp column has 1 unparseable values like 'soon'"):
        normalise_interactions(pd.DataFrame({"user": [1, 2], "item": [1, 2], "timestamp": ["2024-01-01", "soon"]}))
    with pytest.raises(DataError, match="no interaction has a rating of at least 6"):
        normalise_interactions(pd.DataFrame({"user": [1], "item": [1], "rating": [5]}), min_rating=6)


def test_leave_last_out_split_by_time() -> None:
    frame = pd.DataFrame(ROWS + [(3, 10, 5, 1)], columns=["user", "item", "rating", "timestamp"])
    module = InteractionsDataModule(demo=frame, min_users=1)
    module.setup()
    users, items = list(module.users), list(module.items)
    test = {users[u]: items[i] for u, i in zip(*module.test)}
    val = {users[u]: items[i] for u, i in zip(*module.val)}
    assert test == {"1": "11", "2": "11"} and val == {"1": "12", "2": "13"}
    assert module.seen_before_test[users.index("1")].tolist() == [items.index("10"), items.index("12")]
    assert users.index("3") in module.train_pairs[0]
    with pytest.raises(DataError, match="only 2 users have the 3\\+ interactions"):
        InteractionsDataModule(demo=frame, min_users=10).setup()


def test_ranking_metrics_and_ranks() -> None:
    scores = torch.tensor([[0.9, 0.8, 0.1, 0.5]])
    exclude = torch.tensor([[True, False, False, False]])
    assert target_ranks(scores, torch.tensor([3]), exclude).tolist() == [1]
    metrics = ranking_metrics(np.array([0, 1, 20]), k=10)
    assert metrics["hr_at_10"] == pytest.approx(2 / 3)
    assert metrics["ndcg_at_10"] == pytest.approx((1 + 1 / np.log2(3)) / 3)


def test_demo_interactions_are_deterministic_and_skewed() -> None:
    first, second = make_interactions(n_users=100, n_items=50, seed=3), make_interactions(n_users=100, n_items=50, seed=3)
    pd.testing.assert_frame_equal(first, second)
    counts = first["item"].value_counts()
    assert counts.iloc[0] > 4 * counts.median()
    assert not first.duplicated(["user", "item"]).any()


def test_predictor_excludes_seen_items_and_serves_new_users() -> None:
    module = InteractionsDataModule(demo=make_interactions(n_users=60, n_items=40, seed=1))
    module.setup()
    model = BPRRecommender(**module.model_kwargs(), hidden=8).eval()
    model.set_catalogue(module.item_counts, module.seen_all)
    predictor = RecommendationPredictor(model, module.users.tolist(), module.items.tolist())
    known, unknown = predictor.predict(module.input_example())
    seen = {str(module.items[i]) for i in module.seen_all[0]}
    assert known["known_user"] and len(known["items"]) == 10 and not seen & set(known["items"])
    assert not unknown["known_user"] and len(unknown["items"]) == 5
    assert unknown["scores"] == pytest.approx(np.sort(np.log1p(module.item_counts))[::-1][:5])
    with pytest.raises(DataError, match="field 'k'"):
        predictor.predict([{"user": "1", "k": 0}])


def test_popularity_baseline_scores_training_counts() -> None:
    module = InteractionsDataModule(demo=make_interactions(n_users=60, n_items=40, seed=1))
    module.setup()
    scores = PopularityBaseline().fit(module).predict(torch.tensor([0, 1]))
    assert scores.shape == (2, 40) and torch.equal(scores[0], scores[1])
