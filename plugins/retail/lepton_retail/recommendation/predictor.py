"""Recommendation predictor: a user id in -> the top-K items the user has not seen (popular items for a new user)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from lepton_core.deploy.predictor import Predictor
from lepton_core.hooks.specs import DeployContext
from lepton_retail.recommendation.model import FactorRecommender

__all__ = ["RecommendationPredictor", "Recommendations", "UserRequest"]


class UserRequest(BaseModel):
    """Whom to recommend to, and how many items."""

    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1)
    k: int = Field(default=10, ge=1, le=1000)


class Recommendations(BaseModel):
    """Top-K unseen items, best first, with their scores."""

    user: str
    known_user: bool
    items: list[str]
    scores: list[float]


class RecommendationPredictor(Predictor):
    """Map the user id, score every item, drop the user's seen items, keep the top K."""

    input_model = UserRequest
    output_model = Recommendations
    input_kind = "json"

    def __init__(self, module: torch.nn.Module, users: Sequence[str], items: Sequence[str]) -> None:
        super().__init__(module)
        self.user_index = {str(u): i for i, u in enumerate(users)}
        self.items = [str(i) for i in items]

    @classmethod
    def from_context(cls, ctx: DeployContext) -> RecommendationPredictor:
        """Rebuild the factor model from the bundle's model arguments; vocabularies from its state."""
        state = ctx.state
        module = ctx.build_model(FactorRecommender)
        return cls(module, state["users"], state["items"])

    def preprocess(self, items: Sequence[UserRequest]) -> tuple[torch.Tensor, ...]:
        index = [self.user_index.get(item.user, -1) for item in items]
        users = torch.tensor([max(i, 0) for i in index], dtype=torch.long)
        known = torch.tensor([float(i >= 0) for i in index])
        return users, known

    def postprocess(self, outputs: Any, items: Sequence[UserRequest]) -> list[dict[str, Any]]:
        scores = torch.as_tensor(outputs).float().cpu()
        results = []
        for row, item in zip(scores, items):
            user = self.user_index.get(item.user)
            row = row.clone()
            if user is not None:
                row[self.module.seen_items(user).cpu()] = float("-inf")
            k = min(item.k, int(torch.isfinite(row).sum()))
            top = row.topk(k)
            results.append(
                {
                    "user": item.user,
                    "known_user": user is not None,
                    "items": [self.items[i] for i in top.indices.tolist()],
                    "scores": [float(s) for s in top.values.tolist()],
                }
            )
        return results
