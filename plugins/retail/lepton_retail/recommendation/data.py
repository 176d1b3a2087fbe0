"""Interactions ``user, item[, rating, timestamp]``: reading (MovieLens layouts too), validation, leave-last-out split.

Layouts read by :func:`read_interactions`:

- a CSV/Parquet with a header; columns found by name (``user``/``userId``/``user_id``/``customer_id``...,
  ``item``/``itemId``/``movieId``/``product_id``..., ``rating``, ``timestamp``/``time``/``date``) or
  set with ``data.user_col`` etc. MovieLens ``ratings.csv`` (userId,movieId,rating,timestamp) works as is;
- MovieLens ``u.data`` (tab-separated ``user item rating timestamp``, no header), by extension ``.data``
  or when the first line is four tab-separated numbers;
- MovieLens ``ratings.dat`` (``user::item::rating::timestamp``);
- RecBole atomic files ``*.inter`` (tab-separated, header fields ``name:type`` such as ``user_id:token``).

Rules: an empty file, missing columns, non-numeric ratings and unparseable timestamps are DataErrors.
With ``min_rating`` set, interactions rated below it are dropped (explicit -> implicit feedback).
A repeated (user, item) pair keeps its latest interaction. Per user, interactions are ordered by time
(file order without a timestamp); the last goes to test, the one before to validation, the rest to
training. Users with fewer than 3 interactions are kept for training only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch

from lepton_core.data.tensor_batches import TensorBatchLoader
from lepton_core.errors import ConfigError, DataError

__all__ = ["InteractionsDataModule", "RankingBatches", "read_interactions"]

NAMES = {
    "user": ("user", "userid", "user_id", "customer", "customer_id", "customerid", "visitorid", "client_id"),
    "item": ("item", "itemid", "item_id", "movieid", "movie_id", "product", "product_id", "productid", "sku", "article_id"),
    "rating": ("rating", "ratings", "score", "stars", "quantity"),
    "timestamp": ("timestamp", "time", "date", "datetime", "ts", "event_time", "t_dat"),
}


def _looks_like_udata(path: Path) -> bool:
    with path.open("r", errors="replace") as handle:
        first = handle.readline().strip()
    parts = first.split("\t")
    return len(parts) in (3, 4) and all(p.strip().lstrip("-").replace(".", "", 1).isdigit() for p in parts)


def read_interactions(path: str | Path) -> pd.DataFrame:
    """Read an interactions file in any supported layout (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"interactions file not found: {path}", "check data.path")
    if path.stat().st_size == 0:
        raise DataError(f"interactions file {path} is empty", "provide rows of user, item[, rating, timestamp]")
    layout = ["user", "item", "rating", "timestamp"]
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        elif path.suffix.lower() == ".dat":
            frame = pd.read_csv(path, sep="::", engine="python", header=None)
            frame.columns = layout[: frame.shape[1]]
        elif path.suffix.lower() == ".inter":
            frame = pd.read_csv(path, sep="\t")
            frame.columns = [str(c).split(":")[0] for c in frame.columns]
        elif path.suffix.lower() == ".data" or _looks_like_udata(path):
            frame = pd.read_csv(path, sep="\t", header=None)
            frame.columns = layout[: frame.shape[1]]
        else:
            frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"interactions file {path} is empty", "provide rows of user, item[, rating, timestamp]") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}", "provide a CSV, Parquet, u.data or ratings.dat file") from None
    if frame.empty:
        raise DataError(f"interactions file {path} has a header but no rows", "provide rows of user, item[, rating, timestamp]")
    return frame


def _find(frame: pd.DataFrame, role: str, given: str | None, required: bool) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise DataError(f"column '{given}' (data.{role}_col) not found in {list(frame.columns)[:8]}", f"set data.{role}_col")
        return given
    lowered = {str(c).lower(): c for c in frame.columns}
    for name in NAMES[role]:
        if name in lowered:
            return lowered[name]
    if required:
        raise DataError(
            f"no {role} column (looked for {', '.join(NAMES[role][:4])}...; found {', '.join(map(str, frame.columns[:8]))})",
            f"rename it or set data.{role}_col",
        )
    return None


def _timestamps(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(np.float64)
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
        raise DataError(f"timestamp column has {int(bad.sum())} unparseable values like {examples}", "use epoch seconds or ISO dates")
    return (parsed.astype("datetime64[ns]").astype("int64") // 10**9).to_numpy(np.float64)


def normalise_interactions(
    frame: pd.DataFrame,
    user_col: str | None = None,
    item_col: str | None = None,
    rating_col: str | None = None,
    time_col: str | None = None,
    min_rating: float | None = None,
) -> pd.DataFrame:
    """Columns ``user, item, rating, timestamp`` (strings, strings, float, float), validated and de-duplicated."""
    user = _find(frame, "user", user_col, True)
    item = _find(frame, "item", item_col, True)
    rating = _find(frame, "rating", rating_col, False)
    stamp = _find(frame, "timestamp", time_col, False)
    empty = frame[user].isna() | frame[item].isna()
    if empty.any():
        raise DataError(f"{int(empty.sum())} interactions have an empty user or item", "drop or fill those rows")
    out = pd.DataFrame({"user": frame[user].astype(str), "item": frame[item].astype(str)})
    if rating is not None:
        values = pd.to_numeric(frame[rating], errors="coerce")
        bad = values.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in frame[rating][bad].astype(str).unique()[:3])
            raise DataError(f"column '{rating}' is not numeric ({int(bad.sum())} rows like {examples})", "clean the ratings or set data.rating_col")
        out["rating"] = values.astype(float)
    else:
        out["rating"] = 1.0
    out["timestamp"] = _timestamps(frame[stamp]) if stamp is not None else np.arange(len(frame), dtype=np.float64)
    if min_rating is not None:
        out = out[out["rating"] >= float(min_rating)]
        if out.empty:
            raise DataError(f"no interaction has a rating of at least {min_rating}", "lower data.min_rating or set it to null")
    out["order"] = np.arange(len(out))
    out = out.sort_values(["user", "timestamp", "order"], kind="stable")
    return out.drop_duplicates(["user", "item"], keep="last").drop(columns="order").reset_index(drop=True)


class RankingBatches:
    """Batches of (users, held-out item, mask of items to exclude) for full-ranking evaluation."""

    def __init__(self, users: np.ndarray, targets: np.ndarray, seen: Sequence[np.ndarray], n_items: int, batch_size: int = 512) -> None:
        self.users, self.targets, self.seen, self.n_items, self.batch_size = users, targets, seen, n_items, batch_size

    def __len__(self) -> int:
        return (len(self.users) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.users), self.batch_size):
            users = self.users[start : start + self.batch_size]
            mask = torch.zeros(len(users), self.n_items, dtype=torch.bool)
            rows = np.concatenate([np.full(len(self.seen[u]), r) for r, u in enumerate(users)]) if len(users) else np.zeros(0, int)
            cols = np.concatenate([self.seen[u] for u in users]) if len(users) else np.zeros(0, int)
            mask[torch.from_numpy(rows.astype(np.int64)), torch.from_numpy(cols.astype(np.int64))] = True
            yield torch.from_numpy(users), torch.from_numpy(self.targets[start : start + self.batch_size]), mask


class InteractionsDataModule(L.LightningDataModule):
    """Interactions from ``path`` or ``demo``, encoded, split leave-last-out by time per user.

    After ``setup()``: ``users`` / ``items`` (id vocabularies), ``train_pairs`` (user, item index arrays),
    ``val`` / ``test`` (users, held-out item), ``seen_train`` / ``seen_before_test`` (per-user item arrays).
    """

    def __init__(
        self,
        path: str | None = None,
        demo: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        user_col: str | None = None,
        item_col: str | None = None,
        rating_col: str | None = None,
        time_col: str | None = None,
        min_rating: float | None = None,
        min_users: int = 10,
        batch_size: int = 1024,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if path is None and demo is None:
            raise ConfigError("no data: data.path is null and the task has no demo data", "set data.path=FILE")
        self.path, self.demo = path, demo
        self.user_col, self.item_col, self.rating_col, self.time_col = user_col, item_col, rating_col, time_col
        self.min_rating, self.min_users = min_rating, int(min_users)
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.users: np.ndarray | None = None

    def load_frame(self) -> pd.DataFrame:
        """The raw interactions table (file, or the demo data)."""
        if self.path is not None:
            return read_interactions(self.path)
        return self.demo() if callable(self.demo) else self.demo

    def setup(self, stage: str | None = None) -> None:
        """Read, validate, encode and split."""
        if self.users is not None:
            return
        frame = normalise_interactions(
            self.load_frame(), self.user_col, self.item_col, self.rating_col, self.time_col, self.min_rating
        )
        self.users, user_index = np.unique(frame["user"].to_numpy(), return_inverse=True)
        self.items, item_index = np.unique(frame["item"].to_numpy(), return_inverse=True)
        frame = frame.assign(u=user_index, i=item_index)
        position = frame.groupby("u").cumcount(ascending=False).to_numpy()
        counts = frame.groupby("u")["u"].transform("size").to_numpy()
        evaluated = counts >= 3
        test_rows = evaluated & (position == 0)
        val_rows = evaluated & (position == 1)
        train_rows = ~(test_rows | val_rows)
        if test_rows.sum() < self.min_users:
            raise DataError(
                f"only {int(test_rows.sum())} users have the 3+ interactions a leave-last-out split needs (need {self.min_users})",
                "provide more interactions per user (or lower data.min_users)",
            )
        self.n_users, self.n_items = len(self.users), len(self.items)
        self.train_pairs = (frame["u"].to_numpy()[train_rows], frame["i"].to_numpy()[train_rows])
        self.val = (frame["u"].to_numpy()[val_rows], frame["i"].to_numpy()[val_rows])
        self.test = (frame["u"].to_numpy()[test_rows], frame["i"].to_numpy()[test_rows])
        self.seen_train = self._per_user(*self.train_pairs)
        before_test = train_rows | val_rows
        self.seen_before_test = self._per_user(frame["u"].to_numpy()[before_test], frame["i"].to_numpy()[before_test])
        self.seen_all = self._per_user(frame["u"].to_numpy(), frame["i"].to_numpy())
        self.item_counts = np.bincount(self.train_pairs[1], minlength=self.n_items)
        self.interactions = len(frame)

    def _per_user(self, users: np.ndarray, items: np.ndarray) -> list[np.ndarray]:
        order = np.argsort(users, kind="stable")
        bounds = np.searchsorted(users[order], np.arange(self.n_users + 1))
        sorted_items = items[order]
        return [sorted_items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def train_dataloader(self) -> TensorBatchLoader:
        users, items = (torch.from_numpy(a.astype(np.int64)) for a in self.train_pairs)
        return TensorBatchLoader(users, items, batch_size=self.batch_size, shuffle=True, seed=self.seed)

    def val_dataloader(self) -> RankingBatches:
        return RankingBatches(self.val[0].astype(np.int64), self.val[1].astype(np.int64), self.seen_train, self.n_items)

    def test_batches(self) -> RankingBatches:
        """Test users, their last item, and everything they saw before it (excluded from the ranking)."""
        return RankingBatches(self.test[0].astype(np.int64), self.test[1].astype(np.int64), self.seen_before_test, self.n_items)

    def model_kwargs(self) -> dict[str, int]:
        """Sizes the recommender needs (its seen-items buffer holds every interaction)."""
        return {"n_users": self.n_users, "n_items": self.n_items, "n_seen": int(sum(len(s) for s in self.seen_all))}

    def summary(self) -> dict[str, Any]:
        """Counts for the report."""
        return {
            "interactions": self.interactions,
            "users": self.n_users,
            "items": self.n_items,
            "training interactions": len(self.train_pairs[0]),
            "evaluated users (leave-last-out)": len(self.test[0]),
            "density": round(self.interactions / (self.n_users * self.n_items), 5),
        }

    def export_state(self) -> dict[str, Any]:
        """Id vocabularies; the items each user has seen travel in the weights as a CSR pair."""
        return {"users": self.users.tolist(), "items": self.items.tolist(), "n_seen": self.model_kwargs()["n_seen"]}

    def input_example(self) -> list[dict[str, Any]]:
        """A known user and an unknown one."""
        return [{"user": str(self.users[0]), "k": 10}, {"user": "a-new-user", "k": 5}]
