"""Unit tests of the recommendation task: file layouts, bad inputs, leave-last-out split, metrics, baselines, model, predictor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from lepton_retail.demo import make_interactions
from lepton_retail.recommendation.baselines import BPRMFBaseline, LightGCNBaseline, PopularityBaseline
from lepton_retail.recommendation.data import (
    InteractionsDataModule,
    normalise_interactions,
    read_interactions,
)
from lepton_retail.recommendation.evaluation import held_out_ranks
from lepton_retail.recommendation.metrics import ranking_metrics, target_ranks
from lepton_retail.recommendation.model import FactorRecommender
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


def test_recbole_inter_layout(tmp_path: Path) -> None:
    path = tmp_path / "ml-100k.inter"
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    path.write_text(header + "\n".join("\t".join(map(str, row)) for row in ROWS) + "\n")
    frame = normalise_interactions(read_interactions(path))
    assert frame[frame.user == "1"]["item"].tolist() == ["10", "12", "11"]


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


def test_full_ranking_metrics_on_a_hand_computed_case() -> None:
    # 3 users x 6 items; each user's held-out item is ranked against every item it has not seen
    scores = torch.tensor(
        [
            [0.9, 0.8, 0.1, 0.5, 0.3, 0.2],  # item 0 seen; target 3 is behind item 1 only: rank 1
            [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],  # nothing seen; target 0 is last of 6: rank 5
            [0.7, 0.7, 0.9, 0.1, 0.8, 0.0],  # items 2, 4 seen; target 1 ties item 0 (ties count against it): rank 1
        ]
    )
    exclude = torch.zeros(3, 6, dtype=torch.bool)
    exclude[0, 0] = exclude[2, 2] = exclude[2, 4] = True
    ranks = target_ranks(scores, torch.tensor([3, 0, 1]), exclude)
    assert ranks.tolist() == [1, 5, 1]
    metrics = ranking_metrics(ranks.numpy(), k=2, recall_k=5)
    assert metrics == pytest.approx(
        {"ndcg_at_2": 2 / np.log2(3) / 3, "hr_at_2": 2 / 3, "recall_at_5": 2 / 3, "mrr": (1 / 2 + 1 / 6 + 1 / 2) / 3}
    )
    assert ranking_metrics(np.array([0, 9, 10, 19, 20]))["recall_at_20"] == pytest.approx(4 / 5)


def test_items_seen_before_the_test_item_are_left_out_of_its_ranking() -> None:
    module = InteractionsDataModule(demo=make_interactions(n_users=40, n_items=30, seed=2))
    module.setup()
    users, targets = module.test

    def seen_first(batch: torch.Tensor) -> torch.Tensor:
        """Every seen item (training and validation) above everything else, the test item next."""
        scores = torch.zeros(len(batch), module.n_items)
        for row, user in enumerate(batch.tolist()):
            scores[row, module.seen_before_test[user]] = 10.0
        scores[torch.arange(len(batch)), torch.from_numpy(targets[np.searchsorted(users, batch.numpy())])] = 1.0
        return scores

    ranks, top = held_out_ranks(module.test_batches(), seen_first, k=5)
    assert (ranks == 0).all()
    for row, user in enumerate(users):
        assert not set(top[row]) & set(module.seen_before_test[user].tolist())


def test_demo_interactions_are_deterministic_and_skewed() -> None:
    first, second = make_interactions(n_users=100, n_items=50, seed=3), make_interactions(n_users=100, n_items=50, seed=3)
    pd.testing.assert_frame_equal(first, second)
    counts = first["item"].value_counts()
    assert counts.iloc[0] > 4 * counts.median()
    assert not first.duplicated(["user", "item"]).any()


@pytest.mark.parametrize("layers", [0, 2])
def test_predictor_excludes_seen_items_and_serves_new_users(layers: int) -> None:
    module = InteractionsDataModule(demo=make_interactions(n_users=60, n_items=40, seed=1))
    module.setup()
    trained = FactorRecommender(**module.model_kwargs(), hidden=8, layers=layers)
    trained.set_catalogue(module.item_counts, module.seen_all)
    trained.set_training_graph(*module.train_pairs)
    trained.refresh_vectors()
    # serving rebuilds the module from its config alone and loads every weight and buffer strictly
    model = FactorRecommender(**module.model_kwargs(), hidden=8, layers=layers).eval()
    model.load_state_dict(trained.state_dict(), strict=True)
    predictor = RecommendationPredictor(model, module.users.tolist(), module.items.tolist())
    known, unknown = predictor.predict(module.input_example())
    seen = {str(module.items[i]) for i in module.seen_all[0]}
    assert known["known_user"] and len(known["items"]) == 10 and not seen & set(known["items"])
    assert not unknown["known_user"] and len(unknown["items"]) == 5
    assert unknown["scores"] == pytest.approx(np.sort(np.log1p(module.item_counts))[::-1][:5])
    expected = trained.scores(torch.tensor([0]))[0].detach()
    expected[module.seen_all[0]] = float("-inf")
    assert known["scores"] == pytest.approx(expected.topk(10).values.tolist(), rel=1e-5)
    with pytest.raises(DataError, match="field 'k'"):
        predictor.predict([{"user": "1", "k": 0}])


def test_popularity_baseline_scores_training_counts() -> None:
    module = InteractionsDataModule(demo=make_interactions(n_users=60, n_items=40, seed=1))
    module.setup()
    scores = PopularityBaseline().fit(module).predict(torch.tensor([0, 1]))
    assert scores.shape == (2, 40) and torch.equal(scores[0], scores[1])


def _test_ndcg(module: InteractionsDataModule, score: object) -> float:
    ranks, _ = held_out_ranks(module.test_batches(), score, k=10)
    return ranking_metrics(ranks)["ndcg_at_10"]


@pytest.fixture(scope="module")
def tastes() -> InteractionsDataModule:
    """Interactions driven by user tastes, with a mild popularity skew: structure a factor model can learn."""
    module = InteractionsDataModule(demo=make_interactions(n_users=400, n_items=120, interactions_per_user=20, popularity_skew=0.5, seed=5))
    module.setup()
    return module


@pytest.mark.parametrize("baseline", [BPRMFBaseline(hidden=16, epochs=8, batch_size=512), LightGCNBaseline(layers=2, hidden=16, epochs=8, batch_size=512)])
def test_factor_baselines_learn_the_tastes(tastes: InteractionsDataModule, baseline: object) -> None:
    baseline.fit(tastes)
    popular = _test_ndcg(tastes, PopularityBaseline().fit(tastes).predict)
    generator = torch.Generator().manual_seed(0)
    chance = _test_ndcg(tastes, lambda users: torch.rand(len(users), tastes.n_items, generator=generator))
    learned = _test_ndcg(tastes, baseline.predict)
    assert learned > 1.3 * popular and popular > chance
    assert baseline.best_epoch >= 0 and baseline.best_ndcg > 0


@pytest.mark.parametrize("loss", ["softmax", "bpr"])
def test_factor_recommender_learns_with_lightning(tastes: InteractionsDataModule, loss: str) -> None:
    import lightning as L

    torch.manual_seed(0)
    model = FactorRecommender(**tastes.model_kwargs(), hidden=16, loss=loss, n_negatives=64, lr=0.02)
    model.set_catalogue(tastes.item_counts, tastes.seen_all)
    trainer = L.Trainer(max_epochs=6, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(model, datamodule=tastes)
    popular = _test_ndcg(tastes, PopularityBaseline().fit(tastes).predict)
    assert _test_ndcg(tastes, model.eval().scores) > 1.3 * popular


def test_unknown_loss_is_a_config_error() -> None:
    from lepton_core.errors import ConfigError

    with pytest.raises(ConfigError, match="model.loss='hinge' is not one of softmax, bpr"):
        FactorRecommender(n_users=2, n_items=2, loss="hinge")
