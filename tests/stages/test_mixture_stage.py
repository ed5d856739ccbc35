"""The condition-mixture stage end to end: a tiny run, a tiny evaluator, a 3x3 grid."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from remodiffuse.diffusion import MIXTURE_FILENAME, load_mixture_yaml
from remodiffuse.stages.mixture_search import (
    GRID_DIRNAME,
    SEARCH_FILENAME,
    coarse_weights,
    grid_point_path,
    grid_values,
)

TINY_MIXTURE = (
    "experiment=mixture",
    "dataset.synthetic.num_motions=40",
    "stage.num_items=6",
    "stage.sampling_batch_size=4",
    "stage.steps=10",
    "stage.grid_min=0",
    "stage.grid_max=1",
    "stage.grid_step=0.5",
    "stage.lr=0.05",
    "trainer.max_steps=3",
    "trainer.log_every_n_steps=1",
)
LR, ADAM_STEPS = 0.05, 3
SENTINEL_FID = -1.0  # below any real FID: chosen only if the search reads the file


@pytest.fixture(scope="module")
def searched(tiny_trained_run, tiny_evaluator_run, compose_train_module, tmp_path_factory):
    """Grid points (0, 0) and (0.5, 0.5) as single-point runs, then the full search in-process.

    The search runs on a copy of the tiny run (the default out_dir is the run directory). Before
    it, (0.5, 0.5) gets a sentinel FID and (1, 1) a file of other settings (seed 99).
    """
    from remodiffuse.training import run_training

    run_dir, _ = tiny_trained_run
    root = tmp_path_factory.mktemp("mixture")
    run = Path(shutil.copytree(run_dir, root / "diffusion_run"))

    def compose(directory: str, *overrides: str) -> DictConfig:
        cfg = compose_train_module(
            root / directory,
            *TINY_MIXTURE,
            f"stage.run={run}",
            f"evaluator.ckpt={tiny_evaluator_run}",
            *overrides,
        )
        cfg.paths.data_dir = str(run_dir.parent / "data")
        return cfg

    point_runs = {}
    for w1, w2 in ((0.0, 0.0), (0.5, 0.5)):
        cfg = compose(f"point_{w1}_{w2}", f"mixture.w1={w1}", f"mixture.w2={w2}")
        point_runs[(w1, w2)] = (run_training(cfg), Path(cfg.hydra.runtime.output_dir))
    grid_dir = run / GRID_DIRNAME
    written = {key: json.loads(grid_point_path(grid_dir, *key).read_text()) for key in point_runs}
    sentinel = {**written[(0.5, 0.5)], "fid": SENTINEL_FID}
    grid_point_path(grid_dir, 0.5, 0.5).write_text(json.dumps(sentinel))
    other_seed = {**written[(0.0, 0.0)], "w1": 1.0, "w2": 1.0, "fid": -2.0, "seed": 99}
    grid_point_path(grid_dir, 1.0, 1.0).write_text(json.dumps(other_seed))

    cfg = compose("search")
    last = run_training(cfg)
    return {"run": run, "point_runs": point_runs, "written": written, "last": last}


def test_grid_values_are_inclusive() -> None:
    values = grid_values(-5, 5, 0.5)
    assert len(values) == 21 and values[0] == -5 and values[-1] == 5 and 0.0 in values


def test_grid_point_mode_writes_its_point_and_takes_no_step(searched, tiny_evaluator_run) -> None:
    for (w1, w2), record in searched["written"].items():
        assert (record["w1"], record["w2"]) == (w1, w2) and np.isfinite(record["fid"])
        assert {key: record[key] for key in ("num_items", "steps", "seed", "switch_fraction")} == {
            "num_items": 6,
            "steps": 10,
            "seed": 0,
            "switch_fraction": 0.8,
        }
        assert record["evaluator"] == f"contrastive:{tiny_evaluator_run}"
    for last, output_dir in searched["point_runs"].values():
        assert last is None and not (output_dir / "checkpoints").exists()
        logged = "".join(path.read_text() for path in output_dir.rglob("metrics.csv"))
        assert "train/fid" not in logged


def test_search_reuses_points_of_the_same_settings(searched) -> None:
    run = searched["run"]
    report = json.loads((run / SEARCH_FILENAME).read_text())
    fids = {(point["w1"], point["w2"]): point["fid"] for point in report["grid"]}
    assert set(fids) == {(a, b) for a in (0.0, 0.5, 1.0) for b in (0.0, 0.5, 1.0)}
    assert fids[(0.5, 0.5)] == SENTINEL_FID
    assert fids[(0.0, 0.0)] == searched["written"][(0.0, 0.0)]["fid"]
    assert np.isfinite(fids[(1.0, 1.0)]) and fids[(1.0, 1.0)] >= 0  # other seed: recomputed
    recomputed = json.loads(grid_point_path(run / GRID_DIRNAME, 1.0, 1.0).read_text())
    assert recomputed["seed"] == 0 and recomputed["fid"] == fids[(1.0, 1.0)]
    assert len(list((run / GRID_DIRNAME).glob("*.json"))) == 9


def test_writes_a_loadable_mixture_with_the_best_grid_point(searched) -> None:
    run = searched["run"]
    mixture = load_mixture_yaml(run / MIXTURE_FILENAME)
    report = json.loads((run / SEARCH_FILENAME).read_text())
    assert report["sampler_steps"] == 10 and report["switch_step"] == 8
    assert mixture.switch_fraction == 0.8
    assert list(mixture.coarse) == pytest.approx(coarse_weights(0.5, 0.5))
    assert report["coarse"] == pytest.approx(list(mixture.coarse))
    assert mixture.fine.sum() == pytest.approx(1.0)
    assert report["fine"] == pytest.approx(list(mixture.fine))
    curve = np.array(report["learning_curve"])
    assert curve.shape == (ADAM_STEPS,) and np.isfinite(curve).all()
    assert report["fine_fid"] == min(curve)


def test_checkpoint_holds_only_the_learned_weights(searched) -> None:
    checkpoint = torch.load(searched["last"], map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == ADAM_STEPS
    assert set(checkpoint["state_dict"]) == {"free"}
    moved = checkpoint["state_dict"]["free"] - torch.tensor(coarse_weights(0.5, 0.5)[:3])
    assert torch.isfinite(moved).all()  # Adam moves each weight by at most lr per step
    assert 0 < moved.abs().max() <= ADAM_STEPS * LR + 1e-6


def test_one_weight_without_the_other_is_an_error(compose_train) -> None:
    cfg = compose_train(*TINY_MIXTURE, "stage.run=run", "evaluator.ckpt=eval", "mixture.w1=0.5")
    with pytest.raises(InstantiationException, match="set both mixture.w1 and mixture.w2"):
        instantiate(cfg.stage, _recursive_=False)


def test_a_non_contrastive_evaluator_is_an_error(compose_train) -> None:
    cfg = compose_train(*TINY_MIXTURE, "stage.run=run", "evaluator=t2m", "evaluator.root=t2m")
    with pytest.raises(InstantiationException, match="needs the contrastive evaluator"):
        instantiate(cfg.stage, _recursive_=False)


def test_max_epochs_ending_before_max_steps_is_an_error(
    tiny_trained_run, tiny_evaluator_run, compose_train, tmp_path
) -> None:
    from remodiffuse.training import run_training

    run_dir, _ = tiny_trained_run
    cfg = compose_train(
        *TINY_MIXTURE,
        f"stage.run={run_dir}",
        f"evaluator.ckpt={tiny_evaluator_run}",
        f"stage.out_dir={tmp_path / 'out'}",
        "trainer.max_epochs=1",
        "trainer.max_steps=1000",
    )
    cfg.paths.data_dir = str(run_dir.parent / "data")
    with pytest.raises(ValueError, match="set trainer.max_epochs=-1"):
        run_training(cfg)
    assert not (tmp_path / "out").exists()  # raised before the grid search


@pytest.mark.slow
def test_hydra_multirun_writes_one_grid_point_per_job(
    tiny_trained_run, tiny_evaluator_run, tmp_path
) -> None:
    run_dir, _ = tiny_trained_run
    out_dir = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "remodiffuse.train",
            "--multirun",  # before or after all the overrides, not between them (argparse)
            *TINY_MIXTURE,
            f"stage.run={run_dir}",
            f"evaluator.ckpt={tiny_evaluator_run}",
            f"stage.out_dir={out_dir}",
            f"paths.data_dir={run_dir.parent / 'data'}",
            f"hydra.sweep.dir={tmp_path / 'multirun'}",
            "mixture.w1=0,0.5",
            "mixture.w2=0",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted(path.name for path in (out_dir / GRID_DIRNAME).iterdir())
    assert files == ["w1=0.5_w2=0.json", "w1=0_w2=0.json"]
    assert not (out_dir / MIXTURE_FILENAME).exists()
