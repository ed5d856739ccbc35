"""Condition-mixture finetuning (paper section 3.4, "Parameter Finetuning"): the search state.

(a) `MixtureSearch.grid_search`: coarse weights (both, text, retr, none) = (w1, w2, 1 - w1 - w2, 0)
    on a grid, scored by FID of generated vs real training motions under the contrastive evaluator.
    Every grid point uses the same noise and its coarse weights for all sampling steps; each point
    is one JSON file in a grid directory, so a Hydra sweep and a later search share them.
(b) `MixtureSearch.fine_fid`: the differentiable FID of the last sampling steps run from x_t at the
    switch step with learnable weights; `remodiffuse.stages.MixtureStage` trains them with Adam.
"""

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from remodiffuse.diffusion import (
    BRANCHES,
    PaperMixture,
    build_sampler,
    mix_branches,
    sample_loop,
)
from remodiffuse.evaluation import EvaluationItems, padded
from remodiffuse.evaluators import ContrastiveEvaluator, renormalize
from remodiffuse.files import write_text
from remodiffuse.metrics import activation_statistics_torch, frechet_distance_torch
from remodiffuse.motion.masks import length_mask
from remodiffuse.motion.normalization import NORMALIZE_EPS
from remodiffuse.pipeline import MotionGenerator

log = logging.getLogger(__name__)

SEARCH_FILENAME = "mixture_search.json"
GRID_DIRNAME = "mixture_grid"
Statistics = tuple[Tensor, Tensor]  # float64 mean (E,), covariance (E, E)
ALL_BRANCHES = tuple(range(len(BRANCHES)))  # every branch: a zero weight keeps its gradient


@dataclass(frozen=True)
class GridPoint:
    """One grid evaluation: w1 (both), w2 (text) and the FID of the resulting samples."""

    w1: float
    w2: float
    fid: float


def coarse_weights(w1: float, w2: float) -> list[float]:
    """(both, text, retr, none) = (w1, w2, 1 - w1 - w2, 0)."""
    return [w1, w2, 1.0 - w1 - w2, 0.0]


def grid_values(low: float, high: float, step: float) -> list[float]:
    """low, low + step, ..., high (inclusive, rounded to 1e-9)."""
    count = int(np.floor((high - low) / step + 1e-9)) + 1
    return [round(low + i * step, 9) for i in range(count)]


def grid_key(w1: float, w2: float) -> tuple[float, float]:
    """(w1, w2) rounded to 1e-6, so sweep values and grid values compare equal."""
    return round(float(w1), 6), round(float(w2), 6)


def grid_point_path(grid_dir: str | Path, w1: float, w2: float) -> Path:
    """The JSON file of one grid point: <grid_dir>/w1=<w1>_w2=<w2>.json."""
    return Path(grid_dir) / f"w1={w1:g}_w2={w2:g}.json"


def write_grid_point(grid_dir: str | Path, point: GridPoint, settings: Mapping[str, Any]) -> Path:
    """Write w1, w2, FID and the settings that make points comparable (atomically)."""
    path = grid_point_path(grid_dir, point.w1, point.w2)
    record = {"w1": point.w1, "w2": point.w2, "fid": point.fid, **settings}
    write_text(path, json.dumps(record, indent=2))
    return path


def read_grid_points(
    grid_dir: str | Path, settings: Mapping[str, Any]
) -> dict[tuple[float, float], GridPoint]:
    """The grid points of grid_dir computed with exactly these settings, keyed by (w1, w2)."""
    points = {}
    for path in sorted(Path(grid_dir).glob("*.json")):
        record = json.loads(path.read_text())
        if all(record.get(key) == value for key, value in settings.items()):
            point = GridPoint(float(record["w1"]), float(record["w2"]), float(record["fid"]))
            points[grid_key(point.w1, point.w2)] = point
    return points


def embed(
    evaluator: ContrastiveEvaluator,
    motions: Tensor,
    lengths: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
) -> Tensor:
    """Differentiable (N, E) embeddings of (N, T, D) motions normalised with mean / std."""
    motion = renormalize(motions, mean, std, evaluator.mean, evaluator.std, NORMALIZE_EPS)
    mask = length_mask(torch.from_numpy(lengths), motion.shape[1]).to(motion.device)  # (N, T)
    return evaluator.model.embed_motions(motion * mask[..., None], mask)  # (N, E)


def statistics(embeddings: Tensor) -> Statistics:
    """float64 mean (E,) and covariance (E, E) of (N, E) embeddings."""
    return activation_statistics_torch(embeddings.double())


def fid_to(real: Statistics, embeddings: Tensor) -> Tensor:
    """Differentiable FID (0-d) between the real statistics and (N, E) embeddings."""
    return frechet_distance_torch(*real, *statistics(embeddings))


class MixtureSearch:
    """Shared state of both searches: batches, fixed noise, sampler and real statistics."""

    def __init__(
        self,
        generator: MotionGenerator,
        evaluator: ContrastiveEvaluator,
        items: EvaluationItems,
        seed: int = 0,
        steps: int | str | None = None,
        switch_fraction: float = 0.8,
        batch_size: int = 32,
    ) -> None:
        self.generator, self.evaluator, self.items, self.seed = generator, evaluator, items, seed
        generator.model.requires_grad_(False)
        evaluator.model.requires_grad_(False)
        self.sampler = build_sampler(generator.config["diffusion"], generator.diffusion, steps)
        self.switch_fraction = switch_fraction
        self.switch = PaperMixture([1, 0, 0, 0], [1, 0, 0, 0], switch_fraction).switch_step(
            self.sampler.num_steps
        )
        self.slices = [
            slice(start, start + batch_size) for start in range(0, len(items), batch_size)
        ]
        self.batches = [
            generator.prompt_batch(items.captions[s], items.lengths[s], items.motion_ids[s])
            for s in self.slices
        ]
        real = torch.from_numpy(padded(items.motions)).to(generator.device)  # (N, T, D)
        shape = (len(items), real.shape[1], generator.model.config.input_feats)
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))  # (N, T, D)
        self.noise = noise.to(generator.device)
        with torch.no_grad():
            self.real = statistics(embed(evaluator, real, items.lengths, items.mean, items.std))

    def _frames(self, batch: slice) -> int:
        return int(self.items.lengths[batch].max())

    def sample(self, weights: Tensor, start: int, stop: int, x: Tensor) -> Tensor:
        """Steps start..stop-1 with fixed weights (4,) from x (N, T, D), batch by batch."""
        outputs = []
        for batch, prompts in zip(self.slices, self.batches, strict=True):
            x_batch = x[batch, : self._frames(batch)]  # (B, T_b, D)
            out = sample_loop(
                lambda x_t, t, p=prompts: mix_branches(p.model_call, x_t, t, weights, ALL_BRANCHES),
                x_batch,
                self.sampler,
                start=start,
                stop=stop,
            )
            outputs.append(torch.nn.functional.pad(out, (0, 0, 0, x.shape[1] - out.shape[1])))
        return torch.cat(outputs)  # (N, T, D)

    def fid(self, motions: Tensor) -> Tensor:
        """FID (0-d, float64) of generated (N, T, D) motions against the real items."""
        gen = self.generator
        embeddings = embed(self.evaluator, motions, self.items.lengths, gen.mean, gen.std)
        return fid_to(self.real, embeddings)

    @property
    def settings(self) -> dict[str, Any]:
        """What makes two grid FIDs comparable (stored with every grid point)."""
        return {
            "num_items": len(self.items),
            "steps": self.sampler.num_steps,
            "seed": self.seed,
            "switch_fraction": self.switch_fraction,
            "evaluator": self.evaluator.name,
        }

    @torch.no_grad()
    def grid_point(self, w1: float, w2: float) -> GridPoint:
        """FID of the coarse weights (w1, w2, 1 - w1 - w2, 0) used for every step (inf if NaN)."""
        weights = torch.tensor(coarse_weights(w1, w2))
        value = float(self.fid(self.sample(weights, 0, self.sampler.num_steps, self.noise)))
        log.info("grid w1=%+.2f w2=%+.2f fid=%.4f", w1, w2, value)
        return GridPoint(w1, w2, value if np.isfinite(value) else float("inf"))

    def grid_search(
        self, values: Sequence[float], grid_dir: str | Path, write: bool = True
    ) -> list[GridPoint]:
        """The values x values grid: grid_dir's points of the same settings, the rest computed.

        With `write`, every computed point is written to grid_dir as well.
        """
        known = read_grid_points(grid_dir, self.settings)
        table = []
        for w1 in values:
            for w2 in values:
                point = known.get(grid_key(w1, w2))
                if point is None:
                    point = self.grid_point(w1, w2)
                    if write:
                        write_grid_point(grid_dir, point, self.settings)
                else:
                    log.info("grid w1=%+.2f w2=%+.2f fid=%.4f (read)", w1, w2, point.fid)
                table.append(GridPoint(w1, w2, point.fid))
        return table

    @torch.no_grad()
    def switch_state(self, coarse: Sequence[float]) -> Tensor:
        """x_t (N, T, D) at the switch step, from the fixed noise with the coarse weights (4,)."""
        return self.sample(torch.tensor(list(coarse)), 0, self.switch, self.noise)

    def fine_fid(self, weights: Tensor, x_switch: Tensor) -> Tensor:
        """Differentiable FID (0-d) of the last steps from x_switch (N, T, D) with weights (4,)."""
        return self.fid(self.sample(weights, self.switch, self.sampler.num_steps, x_switch))


def grid_table(table: Sequence[GridPoint]) -> str:
    """The grid as a markdown table: rows w1, columns w2, cells FID."""
    w1s = sorted({point.w1 for point in table})
    w2s = sorted({point.w2 for point in table})
    cells = {(point.w1, point.w2): point.fid for point in table}
    lines = [
        "| w1 \\ w2 | " + " | ".join(f"{w2:+.2f}" for w2 in w2s) + " |",
        "|---" * (len(w2s) + 1) + "|",
    ]
    for w1 in w1s:
        row = " | ".join(f"{cells[(w1, w2)]:.4f}" for w2 in w2s)
        lines.append(f"| {w1:+.2f} | {row} |")
    return "\n".join(lines)
