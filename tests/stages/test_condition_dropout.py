"""Condition dropout: released independent drops unchanged, categorical branch shares."""

import numpy as np
import pytest
import torch

from remodiffuse.configs import instantiate
from remodiffuse.errors import InputError
from remodiffuse.stages.condition_dropout import ConditionDropout

DRAWS = 200_000


def _branch_counts(text_on: torch.Tensor, retrieval_on: torch.Tensor) -> np.ndarray:
    """(4,) fractions of samples in (both, text, retr, none)."""
    text, retrieval = text_on.numpy(), retrieval_on.numpy()
    rows = [text & retrieval, text & ~retrieval, ~text & retrieval, ~text & ~retrieval]
    return np.array([row.mean() for row in rows])


def test_independent_drops_draw_as_the_released_recipe():
    dropout = ConditionDropout(0.1, 0.2)
    text_on, retrieval_on = dropout.draw(1000, torch.Generator().manual_seed(5))
    keep = torch.rand(1000, 2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(text_on, keep[:, 0] >= 0.1) and torch.equal(retrieval_on, keep[:, 1] >= 0.2)
    assert dropout.kind == "independent"
    np.testing.assert_allclose(dropout.shares(), [0.72, 0.18, 0.08, 0.02])


def test_categorical_draws_each_branch_at_its_share():
    shares = [0.7, 0.1, 0.2, 0.0]
    dropout = ConditionDropout(branches=shares)
    counts = _branch_counts(*dropout.draw(DRAWS, torch.Generator().manual_seed(0)))
    np.testing.assert_allclose(counts, shares, atol=0.005)
    assert counts[3] == 0.0 and dropout.kind == "categorical"
    np.testing.assert_array_equal(dropout.shares(), shares)


@pytest.mark.parametrize(
    ("branches", "message"),
    [
        ([0.5, 0.5, 0.5], "4 numbers"),
        ([0.7, 0.1, 0.1, 0.2], "sum to 1"),
        ([1.1, 0, 0, -0.1], ">= 0"),
    ],
)
def test_bad_branch_probabilities_are_input_errors(branches, message):
    with pytest.raises(InputError, match=message):
        ConditionDropout(branches=branches)


def test_stage_option_selects_the_categorical(compose_train):
    cfg = compose_train("stage.branch_probabilities=[0.7,0.1,0.1,0.1]")
    stage = instantiate(cfg.stage, _recursive_=False)
    assert stage.condition_dropout.kind == "categorical"
    assert stage.hparams.branch_probabilities == [0.7, 0.1, 0.1, 0.1]
    default = instantiate(compose_train().stage, _recursive_=False)
    np.testing.assert_allclose(default.condition_dropout.shares(), [0.81, 0.09, 0.09, 0.01])
