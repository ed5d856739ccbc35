"""Sweeps and launchers: the Optuna presets, the submitit launchers and the optimised metric."""

import csv
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from omegaconf import OmegaConf

from remodiffuse.errors import InputError
from remodiffuse.stages.mixture_search import GRID_DIRNAME
from remodiffuse.training import optimized_metric

ONE_EPOCH = ("trainer.max_epochs=1",)
# one grid point of the tiny run: 6 items, 10 sampler steps, a 0..1 grid of step 0.5
TINY_GRID_POINT = (
    "experiment=mixture",
    "dataset.synthetic.num_motions=40",
    "stage.num_items=6",
    "stage.sampling_batch_size=4",
    "stage.steps=10",
    "stage.grid_min=0",
    "stage.grid_max=1",
    "stage.grid_step=0.5",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One synthetic set and caption cache for the module's tiny runs (made by the first)."""
    return tmp_path_factory.mktemp("data")


def _train(tmp_path: Path, *overrides: str, path: str | None = None) -> subprocess.CompletedProcess:
    """`python -m remodiffuse.train` in tmp_path (with `path` as PATH, if given)."""
    return subprocess.run(
        [sys.executable, "-m", "remodiffuse.train", *overrides],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PATH": path or os.environ["PATH"]},
        timeout=600,
    )


def _last_val_loss(run_dir: Path) -> float:
    """The last val/loss the run's CSV logger wrote."""
    (metrics,) = (run_dir / "csv").glob("version_*/metrics.csv")
    with metrics.open() as rows:
        return [float(row["val/loss"]) for row in csv.DictReader(rows) if row["val/loss"]][-1]


def test_optimized_metric_is_the_logged_float():
    trainer = SimpleNamespace(callback_metrics={"val/loss": torch.tensor(0.25)})
    assert optimized_metric(trainer, "val/loss") == 0.25
    assert optimized_metric(trainer, None) is None
    with pytest.raises(InputError, match=r"val/fid@contrastive was not .* logged: val/loss"):
        optimized_metric(trainer, "val/fid@contrastive")


def test_diffusion_preset_searches_stage_lr_and_model_dropout(compose_train):
    cfg = compose_train("hparams_search=diffusion_optuna", "seed=3")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSweeper") and sweeper.direction == "minimize"
    assert sweeper.sampler._target_ == "optuna.samplers.TPESampler" and sweeper.sampler.seed == 3
    assert set(sweeper.params) == {"stage.lr", "model.dropout"}
    assert all(OmegaConf.select(cfg, key) is not None for key in sweeper.params)
    assert cfg.optimized_metric == "val/loss" and cfg.hydra.mode.name == "MULTIRUN"


def test_mixture_preset_searches_the_coarse_grid(compose_train):
    cfg = compose_train("experiment=mixture", "hparams_search=mixture_optuna", "stage.grid_step=1")
    params = OmegaConf.to_container(cfg.hydra.sweeper.params, resolve=True)
    assert params == {"mixture.w1": "range(-5.0, 5.0, 1)", "mixture.w2": "range(-5.0, 5.0, 1)"}
    assert cfg.optimized_metric == "grid/fid"


FAKE_SBATCH = """#!/bin/sh
cp "$1" "$(dirname "$0")/job.sh"
echo "sbatch: no cluster here" >&2
exit 1
"""


def test_slurm_launcher_asks_one_task_per_device(tmp_path):
    """The sbatch script of a 2-node, 4-device DDP job: a fake sbatch keeps it and fails."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in {"sbatch": FAKE_SBATCH, "srun": "#!/bin/sh\nexit 1\n"}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    result = _train(
        tmp_path,
        "-m",
        "launcher=slurm",
        "trainer=ddp",
        "trainer.devices=4",
        "trainer.num_nodes=2",
        "hydra.launcher.partition=gpu",
        f"paths.data_dir={tmp_path / 'data'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    assert result.returncode != 0 and "sbatch: no cluster here" in result.stderr
    script = (bin_dir / "job.sh").read_text()
    for line in ("--nodes=2", "--ntasks-per-node=4", "--gpus-per-node=4", "--partition=gpu"):
        assert f"#SBATCH {line}\n" in script
    assert "\nsrun " in script  # srun starts the 4 tasks per node that Lightning reads as ranks


@pytest.mark.slow
def test_two_trial_optuna_sweep_reports_the_best_loss(tmp_path, data_dir, tiny_training):
    sweep_dir = tmp_path / "sweep"
    result = _train(
        tmp_path,
        "hparams_search=diffusion_optuna",
        "hydra.sweeper.n_trials=2",
        *tiny_training,
        *ONE_EPOCH,
        f"paths.data_dir={data_dir}",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = []
    for trial in ("0", "1"):
        overrides = OmegaConf.load(sweep_dir / trial / ".hydra" / "overrides.yaml")
        assert {o.split("=")[0] for o in overrides} >= {"stage.lr", "model.dropout"}
        losses.append(_last_val_loss(sweep_dir / trial))
    assert not (sweep_dir / "2").exists()
    results = OmegaConf.load(sweep_dir / "optimization_results.yaml")
    assert set(results.best_params) == {"stage.lr", "model.dropout"}
    assert results.best_value == pytest.approx(min(losses), rel=1e-6)


@pytest.mark.slow
def test_local_launcher_runs_each_job_through_submitit(tmp_path, data_dir, tiny_training):
    sweep_dir = tmp_path / "multirun"
    result = _train(
        tmp_path,
        "-m",
        "launcher=local",
        *tiny_training,
        *ONE_EPOCH,
        "optimized_metric=val/loss",
        f"paths.data_dir={data_dir}",
        f"hydra.sweep.dir={sweep_dir}",
        "seed=0,1",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("0", "1"):
        assert (sweep_dir / job / "checkpoints" / "last.ckpt").is_file()
        assert (sweep_dir / job / "model.safetensors").is_file()
    results = sorted((sweep_dir / ".submitit").glob("*/*_0_result.pkl"))
    assert len(results) == 2  # one submitit job each, with its stdout, stderr and result
    for path in results:
        status, job_return = pickle.loads(path.read_bytes())
        assert status == "success" and isinstance(job_return.return_value, float)
        log = path.with_name(path.name.replace("_result.pkl", "_log.out")).read_text()
        assert "last checkpoint:" in log


@pytest.mark.slow
def test_mixture_sweep_minimises_grid_point_fid(tiny_trained_run, tiny_evaluator_run, tmp_path):
    run_dir, _ = tiny_trained_run
    out_dir, sweep_dir = tmp_path / "out", tmp_path / "sweep"
    result = _train(
        tmp_path,
        *TINY_GRID_POINT,
        "hparams_search=mixture_optuna",
        "hydra.sweeper.n_trials=2",
        f"stage.run={run_dir}",
        f"evaluator.ckpt={tiny_evaluator_run}",
        f"stage.out_dir={out_dir}",
        f"paths.data_dir={run_dir.parent / 'data'}",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    points = [json.loads(path.read_text()) for path in (out_dir / GRID_DIRNAME).glob("*.json")]
    assert points and all(point["w1"] in (0, 0.5, 1) for point in points)
    results = OmegaConf.load(sweep_dir / "optimization_results.yaml")
    assert results.best_value == pytest.approx(min(point["fid"] for point in points))
