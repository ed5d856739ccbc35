"""Condition-mixture finetuning end to end: a tiny run, a tiny evaluator, a 3x3 grid."""

import json

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from remodiffuse.configs import config_dir
from remodiffuse.diffusion import MIXTURE_FILENAME, load_mixture_yaml
from remodiffuse.finetune_mixture import run_finetune
from remodiffuse.mixture_search import SEARCH_FILENAME, coarse_weights, grid_values


@pytest.fixture(scope="module")
def finetuned(tiny_trained_run, tiny_evaluator_run, tmp_path_factory):
    """(output directory, search) of a 3x3 grid, 10 sampler steps and 3 Adam steps."""
    run_dir, _ = tiny_trained_run
    out_dir = tmp_path_factory.mktemp("mixture")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "finetune_mixture",
            overrides=[
                f"ckpt={run_dir}",
                f"evaluator.ckpt={tiny_evaluator_run}",
                f"paths.data_dir={run_dir.parent / 'data'}",
                "dataset.synthetic.num_motions=40",
                f"out_dir={out_dir}",
                "num_items=6",
                "batch_size=4",
                "steps=10",
                "grid_min=0",
                "grid_max=1",
                "grid_step=0.5",
                "learn_steps=3",
                "learn_lr=0.05",
            ],
        )
    GlobalHydra.instance().clear()
    return out_dir, run_finetune(cfg)


def test_grid_values_are_inclusive() -> None:
    values = grid_values(-5, 5, 0.5)
    assert len(values) == 21 and values[0] == -5 and values[-1] == 5 and 0.0 in values


def test_writes_a_loadable_mixture_with_the_best_grid_point(finetuned) -> None:
    out_dir, search = finetuned
    assert search.sampler.num_steps == 10 and search.switch == 8
    mixture = load_mixture_yaml(out_dir / MIXTURE_FILENAME)
    assert mixture.switch_fraction == 0.8
    w1, w2, w3, w4 = mixture.coarse
    assert w4 == 0 and w3 == pytest.approx(1 - w1 - w2)
    assert mixture.fine.sum() == pytest.approx(1.0)
    report = json.loads((out_dir / SEARCH_FILENAME).read_text())
    grid = report["grid"]
    assert len(grid) == 9 and {(p["w1"], p["w2"]) for p in grid} == {
        (a, b) for a in (0.0, 0.5, 1.0) for b in (0.0, 0.5, 1.0)
    }
    best = min(grid, key=lambda point: point["fid"])
    assert report["coarse"] == pytest.approx(coarse_weights(best["w1"], best["w2"]))
    curve = np.array(report["learning_curve"])
    assert curve.shape == (3,) and np.isfinite(curve).all()
    assert min(curve) <= curve[0]
    assert report["fine"] == pytest.approx(list(mixture.fine))


def test_fine_weight_gradient_is_finite_and_moves_the_weights(finetuned) -> None:
    _, search = finetuned
    coarse = coarse_weights(0.5, 0.5)
    with torch.no_grad():
        x_switch = search.sample(torch.tensor(coarse), 0, search.switch, search.noise)
    free = torch.tensor(coarse[:3], requires_grad=True)
    weights = torch.cat([free, 1 - free.sum(0, keepdim=True)])
    loss = search.fid(search.sample(weights, search.switch, search.sampler.num_steps, x_switch))
    loss.backward()
    assert torch.isfinite(free.grad).all() and free.grad.abs().sum() > 0
    assert all(p.grad is None for p in search.generator.model.parameters())
