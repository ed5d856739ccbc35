"""Condition-mixture finetune of a trained run (paper section 3.4, "Parameter Finetuning").

`python -m remodiffuse.train experiment=mixture stage.run=RUN evaluator.ckpt=EVAL_RUN` runs the grid
search and learns the fine weights; adding `mixture.w1=... mixture.w2=...` (e.g. a `-m` sweep)
scores one grid point instead. The search itself lives in `remodiffuse.stages.mixture_search`.
"""

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from lightning import Callback, LightningModule
from lightning.pytorch.callbacks import ModelCheckpoint
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from remodiffuse.data import MotionDataModule, TextMotionDataset
from remodiffuse.diffusion import MIXTURE_FILENAME, PaperMixture, save_mixture_yaml
from remodiffuse.errors import InputError
from remodiffuse.evaluation import EvaluationItems
from remodiffuse.evaluators import load_evaluator
from remodiffuse.files import write_text
from remodiffuse.pipeline import MotionGenerator
from remodiffuse.stages.mixture_search import (
    GRID_DIRNAME,
    SEARCH_FILENAME,
    GridPoint,
    MixtureSearch,
    coarse_weights,
    grid_table,
    grid_values,
    write_grid_point,
)

log = logging.getLogger(__name__)

MONITOR = "train/fid"
GRID_MONITOR = "grid/fid"  # the FID of a grid-point run, for optimized_metric


def training_items(datamodule: MotionDataModule, num_items: int | None) -> EvaluationItems:
    """The first training items, read deterministically (first caption, no random crop)."""
    dataset = TextMotionDataset(
        datamodule.root,
        "train",
        min_length=datamodule.min_length,
        max_length=datamodule.max_length,
        unit_length=datamodule.unit_length,
        fps=datamodule.fps,
        long_motions=datamodule.eval_long_motions,
    )
    return EvaluationItems.from_dataset(dataset, num_items)


class MixtureStage(LightningModule):
    """Grid search of the coarse weights, then Adam on the fine w1..w3 (the only parameter).

    With `w1` and `w2` set, fitting scores that one grid point, writes it to <out>/mixture_grid/,
    sets its FID as callback metric grid/fid and stops before any step. Without, the grid (reusing
    point files of the same settings) picks the coarse weights, x_t at the switch step is sampled
    once, and each training step is one differentiable FID over the same training items: the data
    module's batches only pace the steps (trainer.max_steps = Adam steps). The frozen run and
    evaluator are not submodules, so checkpoints hold only the weights. Rank zero writes
    mixture.yaml + mixture_search.json into out_dir (default: the run directory) with the fine
    weights of the lowest FID seen.
    """

    def __init__(
        self,
        run: str,
        evaluator: Mapping[str, Any],
        w1: float | None = None,
        w2: float | None = None,
        num_items: int | None = 256,
        sampling_batch_size: int = 64,
        steps: int | str | None = None,
        switch_fraction: float = 0.8,
        grid_min: float = -5.0,
        grid_max: float = 5.0,
        grid_step: float = 0.5,
        lr: float = 1e-3,
        seed: int = 0,
        out_dir: str | None = None,
    ) -> None:
        super().__init__()
        if (w1 is None) != (w2 is None):
            raise InputError(
                "set both mixture.w1 and mixture.w2 (one grid point) or neither (the full search)"
            )
        if isinstance(evaluator, DictConfig):  # a missing evaluator.ckpt fails here, by name
            evaluator = OmegaConf.to_container(evaluator, resolve=True, throw_on_missing=True)
        evaluator = dict(evaluator)
        if evaluator.get("kind") != "contrastive":
            raise InputError("mixture finetuning needs the contrastive evaluator (differentiable)")
        evaluator["ckpt"] = str(Path(evaluator["ckpt"]).resolve())
        self.save_hyperparameters(
            {
                "run": str(Path(run).resolve()),
                "evaluator": evaluator,
                "w1": None if w1 is None else float(w1),
                "w2": None if w2 is None else float(w2),
                "num_items": num_items,
                "sampling_batch_size": sampling_batch_size,
                "steps": steps,
                "switch_fraction": switch_fraction,
                "grid_min": grid_min,
                "grid_max": grid_max,
                "grid_step": grid_step,
                "lr": lr,
                "seed": seed,
                "out_dir": str(Path(out_dir).resolve()) if out_dir else None,
            }
        )
        self.free = nn.Parameter(torch.zeros(3))  # (3,) fine w1, w2, w3; w4 = 1 - their sum
        self.search: MixtureSearch | None = None
        self.x_switch: Tensor | None = None  # (N, T, D) x_t at the switch step
        self.grid: list[GridPoint] = []
        self.coarse: list[float] = []
        self.curve: list[float] = []
        self.best: tuple[float, list[float]] = (math.inf, [])  # (FID, free weights)

    @property
    def out_dir(self) -> Path:
        """Where mixture.yaml, mixture_search.json and mixture_grid/ go."""
        return Path(self.hparams.out_dir or self.search.generator.run_dir)

    def fine_weights(self) -> Tensor:
        """(4,) both, text, retr, none: the free weights and 1 - their sum."""
        return torch.cat([self.free, 1 - self.free.sum(0, keepdim=True)])

    def on_fit_start(self) -> None:
        """Load the frozen run, evaluator and items; in grid-point mode, score it and stop."""
        self.search = self._build_search()
        hparams = self.hparams
        if hparams.w1 is None:
            return
        point = self.search.grid_point(hparams.w1, hparams.w2)
        # self.log is not allowed in on_fit_start; no step or validation resets this afterwards
        self.trainer.callback_metrics[GRID_MONITOR] = torch.tensor(point.fid)
        if self.trainer.is_global_zero:
            path = write_grid_point(self.out_dir / GRID_DIRNAME, point, self.search.settings)
            log.info("grid point w1=%g w2=%g: FID %.4f -> %s", point.w1, point.w2, point.fid, path)
        self.trainer.should_stop = True  # fitting ends before the first training step

    def _build_search(self) -> MixtureSearch:
        """The frozen run and evaluator on this device and the data module's training items."""
        hparams = self.hparams
        generator = MotionGenerator(hparams.run, self.device)
        datamodule = self.trainer.datamodule
        trained_on = generator.config["dataset"].get("name")
        if trained_on and trained_on != datamodule.name:
            raise InputError(
                f"{hparams.run} was trained on {trained_on!r} but the data module reads "
                f"{datamodule.name!r}: select the run's dataset (dataset=...)"
            )
        return MixtureSearch(
            generator,
            load_evaluator({**hparams.evaluator, "device": self.device}),
            training_items(datamodule, hparams.num_items),
            seed=hparams.seed,
            steps=hparams.steps,
            switch_fraction=hparams.switch_fraction,
            batch_size=hparams.sampling_batch_size,
        )

    def on_train_start(self) -> None:
        """Grid search, x_t at the switch step with the best coarse weights, fine = coarse."""
        self._check_loop_length()
        hparams = self.hparams
        values = grid_values(hparams.grid_min, hparams.grid_max, hparams.grid_step)
        grid_dir = self.out_dir / GRID_DIRNAME
        self.grid = self.search.grid_search(values, grid_dir, write=self.trainer.is_global_zero)
        log.info("grid FID:\n%s", grid_table(self.grid))
        best = min(self.grid, key=lambda point: point.fid)
        self.coarse = coarse_weights(best.w1, best.w2)
        self.x_switch = self.search.switch_state(self.coarse)
        with torch.no_grad():
            self.free.copy_(torch.tensor(self.coarse[:3]))
        self.best = (math.inf, self.coarse[:3])

    def _check_loop_length(self) -> None:
        """Raise unless fitting runs trainer.max_steps > 0 steps before max_epochs ends it."""
        trainer = self.trainer
        if trainer.max_steps <= 0:
            raise InputError("set trainer.max_steps to the number of Adam steps (paper: 1000)")
        epochs = trainer.max_epochs
        if epochs is not None and 0 <= epochs * trainer.num_training_batches < trainer.max_steps:
            raise InputError(
                f"trainer.max_epochs={epochs} x {trainer.num_training_batches} batches per epoch "
                f"ends before trainer.max_steps={trainer.max_steps}: set trainer.max_epochs=-1"
            )

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> Tensor:
        """One differentiable FID of the last sampling steps (the batch is not used)."""
        fid = self.search.fine_fid(self.fine_weights(), self.x_switch)
        self.log(MONITOR, fid.float(), prog_bar=True, batch_size=1)
        value = float(fid.detach())
        self.curve.append(value)
        if value < self.best[0]:
            self.best = (value, self.free.detach().double().tolist())
        return fid

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam([self.free], lr=self.hparams.lr)

    def configure_callbacks(self) -> list[Callback]:
        """Checkpoints by lowest train/fid (no validation here), replacing the configured ones."""
        configured = self.trainer.checkpoint_callback
        if configured is None:
            return []
        checkpoint = ModelCheckpoint(
            dirpath=configured.dirpath,
            filename="step{step:05d}",
            auto_insert_metric_name=False,
            monitor=MONITOR,
            mode="min",
            save_top_k=1,
            save_last=True,
        )
        return [checkpoint]

    def on_train_end(self) -> None:
        """Rank zero writes mixture.yaml and mixture_search.json."""
        if not self.trainer.is_global_zero:
            return
        best_fid, free = self.best
        fine = [*free, 1.0 - sum(free)]
        mixture = PaperMixture(self.coarse, fine, self.hparams.switch_fraction)
        path = save_mixture_yaml(self.out_dir / MIXTURE_FILENAME, mixture)
        search = self.search
        report = {
            "coarse": [float(w) for w in mixture.coarse],
            "fine": [float(w) for w in mixture.fine],
            "fine_fid": best_fid,
            "switch_fraction": mixture.switch_fraction,
            "sampler_steps": search.sampler.num_steps,
            "switch_step": search.switch,
            "num_items": len(search.items),
            "seed": search.seed,
            "evaluator": search.evaluator.name,
            "lr": self.hparams.lr,
            "grid": [{"w1": p.w1, "w2": p.w2, "fid": p.fid} for p in self.grid],
            "learning_curve": self.curve,
        }
        write_text(self.out_dir / SEARCH_FILENAME, json.dumps(report, indent=2))
        log.info("wrote %s: coarse %s, fine %s", path, report["coarse"], report["fine"])
