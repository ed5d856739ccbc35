"""Motion quality during training: the evaluator's metrics on a fixed validation subset, and a
few fixed prompts rendered as animations with their retrieved captions."""

import json
import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import WandbLogger

from remodiffuse.configs import plain_dict
from remodiffuse.evaluation import EvaluationItems, embed_motions, embed_texts, matching_metrics
from remodiffuse.evaluators import MotionTextEvaluator, load_evaluator
from remodiffuse.export.animation import render_motion
from remodiffuse.export.generated import slug
from remodiffuse.files import write_text
from remodiffuse.metrics import diversity, draw_pairs, fid
from remodiffuse.motion import normalize
from remodiffuse.pipeline import MotionGenerator

log = logging.getLogger(__name__)

QUALITY_DIR = "quality"  # <run>/quality/: the animations and their retrieved captions
MAX_DIVERSITY_PAIRS = 300


@contextmanager
def isolated_rng(device: torch.device) -> Iterator[None]:
    """Python, NumPy and torch (CPU and `device`) random states restored on exit."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


class QualityMonitor(Callback):
    """Every `every_n_epochs` validation epochs, on rank zero: sample the first `num_items`
    validation items (first crop and caption, read once) with the fast sampler and log FID,
    R-precision top-1/3, MM-Dist and diversity as `val/<metric>@<evaluator kind>` when an
    evaluator is configured; render `prompts` (default: the first `num_prompts` validation
    captions) as GIFs in <run>/quality/ (W&B videos and a table of retrieved captions under
    `logger=wandb`).

    Sampling runs under its own random state: training draws the same numbers with the
    callback on or off. every_n_epochs=0 turns it off.
    """

    def __init__(
        self,
        every_n_epochs: int = 5,
        num_items: int = 64,
        evaluator: Mapping[str, Any] | None = None,
        prompts: Sequence[str] | None = None,
        num_prompts: int = 2,
        prompt_length: int = 120,
        steps: int | str | None = "logsnr10",
        sampler: str | None = "dpm_solver++",
        batch_size: int = 32,
        seed: int = 0,
    ) -> None:
        self.every_n_epochs = every_n_epochs
        self.num_items = num_items
        self.evaluator_config = plain_dict(evaluator) if evaluator else None
        self.prompts = list(prompts) if prompts else None
        self.num_prompts = num_prompts
        self.prompt_length = prompt_length
        self.steps, self.sampler, self.batch_size, self.seed = steps, sampler, batch_size, seed
        self._generator: MotionGenerator | None = None
        self._evaluator: MotionTextEvaluator | None = None
        self._reference: tuple[EvaluationItems, np.ndarray, np.ndarray] | None = None

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        due = self.every_n_epochs > 0 and (trainer.current_epoch + 1) % self.every_n_epochs == 0
        if trainer.sanity_checking or not due or not hasattr(pl_module, "inference_config"):
            return  # only the diffusion stage generates
        if not trainer.is_global_zero:
            return
        was_training = pl_module.training
        pl_module.eval()
        try:
            with isolated_rng(pl_module.device), torch.no_grad():
                generator = self._generator_of(trainer, pl_module)
                metrics = self._metrics(trainer, generator)
                self._animations(trainer, generator)
        finally:
            pl_module.train(was_training)
        for name, value in metrics.items():
            pl_module.log(name, value, rank_zero_only=True)

    def _generator_of(self, trainer: Trainer, pl_module: LightningModule) -> MotionGenerator:
        """A generator over the model being trained (built once; its weights are live)."""
        if self._generator is None:
            run_dir = Path(trainer.default_root_dir)
            config = {"model": pl_module.model.config.to_dict(), **pl_module.inference_config()}
            self._generator = MotionGenerator(
                run_dir, device=pl_module.device, loaded=(pl_module.model, config, run_dir)
            )
        return self._generator

    def _metrics(self, trainer: Trainer, generator: MotionGenerator) -> dict[str, float]:
        if self.evaluator_config is None:
            return {}
        evaluator = self._evaluator_of()
        items, real_emb, text_emb = self._reference_of(trainer, evaluator)
        motions = []
        for start in range(0, len(items), self.batch_size):
            batch = slice(start, start + self.batch_size)
            generated = generator.generate(
                items.captions[batch],
                [int(n) for n in items.lengths[batch]],
                seed=self.seed + start,
                steps=self.steps,
                sampler=self.sampler,
            )
            motions += [normalize(m.features, generator.mean, generator.std) for m in generated]
        motion_emb = embed_motions(
            evaluator, motions, generator.mean, generator.std, self.batch_size
        )  # (Q, E)
        pairs = draw_pairs(len(items), min(MAX_DIVERSITY_PAIRS, len(items)), self.seed)
        top = matching_metrics(text_emb, motion_emb, min(32, len(items)), drop_last=True)
        scores = {
            "fid": fid(real_emb, motion_emb),
            "r_precision_top1": top["r_precision_top1"],
            "r_precision_top3": top["r_precision_top3"],
            "mm_dist": top["mm_dist"],
            "diversity": diversity(motion_emb, *pairs),
        }
        kind = self.evaluator_config["kind"]
        return {f"val/{name}@{kind}": float(value) for name, value in scores.items()}

    def _evaluator_of(self) -> MotionTextEvaluator:
        if self._evaluator is None:
            self._evaluator = load_evaluator(self.evaluator_config)
        return self._evaluator

    def _reference_of(
        self, trainer: Trainer, evaluator: MotionTextEvaluator
    ) -> tuple[EvaluationItems, np.ndarray, np.ndarray]:
        """The fixed validation items, their real-motion (Q, E) and caption (Q, E) embeddings."""
        if self._reference is None:
            items = EvaluationItems.from_dataset(trainer.datamodule.datasets["val"], self.num_items)
            real = embed_motions(evaluator, items.motions, items.mean, items.std, self.batch_size)
            texts = embed_texts(evaluator, items.captions, items.tokens, self.batch_size)
            self._reference = (items, real, texts)
        return self._reference

    def _animations(self, trainer: Trainer, generator: MotionGenerator) -> None:
        """Render the fixed prompts of this epoch into <run>/quality/ and to W&B."""
        prompts = self.prompts or trainer.datamodule.datasets["val"].captions[: self.num_prompts]
        if not prompts:
            return
        length = min(max(self.prompt_length, generator.min_length), generator.max_length)
        motions = generator.generate(
            prompts, [length] * len(prompts), seed=self.seed, steps=self.steps, sampler=self.sampler
        )
        epoch = trainer.current_epoch
        out_dir = Path(trainer.default_root_dir) / QUALITY_DIR
        dataset = generator.config["dataset"]
        paths, rows = [], []
        for index, motion in enumerate(motions):
            path = out_dir / f"epoch{epoch:03d}_{index}_{slug(motion.text)}.gif"
            paths.append(
                render_motion(
                    motion.joints, path, dataset["skeleton"], dataset["fps"], motion.text, size=240
                )
            )
            rows.append([epoch, motion.text, " | ".join(motion.retrieved)])
        record = [{"epoch": e, "prompt": p, "retrieved": r.split(" | ")} for e, p, r in rows]
        write_text(out_dir / f"epoch{epoch:03d}_retrieved.json", json.dumps(record, indent=2))
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                step = trainer.global_step
                for index, (path, motion) in enumerate(zip(paths, motions, strict=True)):
                    logger.log_video(
                        f"val/animation_{index}", [str(path)], step=step, caption=[motion.text]
                    )
                columns = ["epoch", "prompt", "retrieved"]
                logger.log_table("val/retrieved", columns=columns, data=rows, step=step)
