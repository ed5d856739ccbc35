"""Condition-mixture finetuning (paper section 3.4, "Parameter Finetuning").

(a) `grid_search`: coarse weights (both, text, retr, none) = (w1, w2, 1 - w1 - w2, 0) on a grid,
    scored by FID of generated vs real training motions under the contrastive evaluator. Every
    grid point uses the same noise and uses its coarse weights for all sampling steps.
(b) `learn_fine_weights`: from x_t at the switch step (sampled once with the best coarse weights),
    learn (w1, w2, w3), w4 = 1 - w1 - w2 - w3, with Adam on a differentiable FID, back-propagating
    through the last sampling steps only; the diffusion network and the evaluator are frozen.
"""

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from remodiffuse.data import TextMotionDataset
from remodiffuse.diffusion import (
    MIXTURE_FILENAME,
    RETRIEVAL_ON,
    TEXT_ON,
    PaperMixture,
    Sampler,
    build_sampler,
    save_mixture_yaml,
)
from remodiffuse.evaluators import ContrastiveEvaluator, renormalize
from remodiffuse.evaluators.common import length_mask
from remodiffuse.generation import MotionGenerator
from remodiffuse.metrics import activation_statistics_torch, frechet_distance_torch
from remodiffuse.motion.normalization import NORMALIZE_EPS
from remodiffuse.stages.conditioning import encode_retrieved

log = logging.getLogger(__name__)

SEARCH_FILENAME = "mixture_search.json"
Statistics = tuple[Tensor, Tensor]  # float64 mean (E,), covariance (E, E)


@dataclass(frozen=True)
class SearchItems:
    """Real items the FID compares against: captions, lengths and normalised motions."""

    texts: list[str]
    lengths: np.ndarray  # (N,) int64
    motions: np.ndarray  # (N, T, D) float32, zero-padded, normalised with mean / std
    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,)

    @classmethod
    def from_dataset(cls, dataset: TextMotionDataset, num_items: int | None) -> "SearchItems":
        """The first num_items items of the dataset (all when None), in dataset order."""
        count = len(dataset) if num_items is None else min(num_items, len(dataset))
        items = [dataset[index] for index in range(count)]
        lengths = np.array([item["length"] for item in items], dtype=np.int64)
        motions = np.zeros((count, int(lengths.max()), dataset.feature_dim), dtype=np.float32)
        for row, item in enumerate(items):
            motions[row, : item["length"]] = item["motion"].numpy()[: item["length"]]
        return cls([item["caption"] for item in items], lengths, motions, dataset.mean, dataset.std)


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


class BatchSampler:
    """One batch of prompts ready to denoise: the frozen network's four-branch calls."""

    def __init__(
        self, generator: MotionGenerator, texts: Sequence[str], lengths: np.ndarray
    ) -> None:
        features = generator.encoder.encode(list(texts))
        neighbours, _ = generator.database.query(
            features.sentence.cpu().numpy(), lengths, exclude="none"
        )  # (B, k)
        self.conditions = encode_retrieved(
            generator.model,
            generator.database,
            neighbours,
            features.tokens,
            features.mask,
            generator.max_length,
            generator.retrieval_statistics,
        )
        self.batch = len(texts)
        frames = int(lengths.max())
        mask = torch.arange(frames) < torch.from_numpy(lengths)[:, None]  # (B, T)
        self.mask = mask.to(generator.device)
        self.model = generator.model

    def model_call(self, x: Tensor, t: Tensor, text_on: Tensor, retrieval_on: Tensor) -> Tensor:
        """Branch-major rows x (nB, T, D) -> x0 predictions (nB, T, D)."""
        copies = x.shape[0] // self.batch
        conditions = self.conditions.repeat(copies)
        return self.model(x, t, conditions, text_on, retrieval_on, self.mask.repeat(copies, 1))

    def mixed(self, x_t: Tensor, t: int, weights: Tensor) -> Tensor:
        """sum_k weights[k] * x0_k over the four branches; x_t (B, T, D), weights (4,)."""
        device = x_t.device
        branch = torch.arange(4, device=device).repeat_interleave(self.batch)  # (4B,)
        text_on = torch.tensor(TEXT_ON, device=device)[branch]  # (4B,)
        retrieval_on = torch.tensor(RETRIEVAL_ON, device=device)[branch]  # (4B,)
        timesteps = torch.full((branch.numel(),), int(t), dtype=torch.long, device=device)
        out = self.model_call(x_t.repeat(4, 1, 1), timesteps, text_on, retrieval_on)
        out = out.reshape(4, *x_t.shape)  # (4, B, T, D)
        return torch.einsum("k,kbtd->btd", weights.to(out.dtype), out)  # (B, T, D)


def run_steps(
    denoise: Callable[[Tensor, int], Tensor], x: Tensor, sampler: Sampler, start: int, stop: int
) -> Tensor:
    """Loop steps start..stop-1 of the sampler from x (B, T, D); returns the new x (B, T, D).

    Deterministic samplers only (DDIM eta = 0, DPM-Solver++); a multistep solver restarts its
    history at `start`.
    """
    sampler.reset()
    for step_index in range(start, stop):
        t = int(sampler.timesteps[step_index])
        x = sampler.step(denoise(x, t), t, x)
    return x


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
        items: SearchItems,
        seed: int = 0,
        steps: int | str | None = None,
        switch_fraction: float = 0.8,
        batch_size: int = 32,
    ) -> None:
        self.generator, self.evaluator, self.items = generator, evaluator, items
        generator.model.requires_grad_(False)
        evaluator.model.requires_grad_(False)
        self.sampler = build_sampler(generator.config["diffusion"], generator.diffusion, steps)
        self.switch_fraction = switch_fraction
        self.switch = PaperMixture([1, 0, 0, 0], [1, 0, 0, 0], switch_fraction).switch_step(
            self.sampler.num_steps
        )
        self.slices = [
            slice(start, start + batch_size) for start in range(0, len(items.texts), batch_size)
        ]
        self.batches = [
            BatchSampler(generator, items.texts[s], items.lengths[s]) for s in self.slices
        ]
        shape = (len(items.texts), items.motions.shape[1], generator.model.config.input_feats)
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))  # (N, T, D)
        self.noise = noise.to(generator.device)
        with torch.no_grad():
            real = torch.from_numpy(items.motions).to(generator.device)  # (N, T, D)
            self.real = statistics(embed(evaluator, real, items.lengths, items.mean, items.std))

    def _frames(self, batch: slice) -> int:
        return int(self.items.lengths[batch].max())

    def sample(self, weights: Tensor, start: int, stop: int, x: Tensor) -> Tensor:
        """Steps start..stop-1 with fixed weights (4,) from x (N, T, D), batch by batch."""
        outputs = []
        for batch, prompts in zip(self.slices, self.batches, strict=True):
            x_batch = x[batch, : self._frames(batch)]  # (B, T_b, D)
            out = run_steps(
                lambda x_t, t, p=prompts: p.mixed(x_t, t, weights),
                x_batch,
                self.sampler,
                start,
                stop,
            )
            outputs.append(torch.nn.functional.pad(out, (0, 0, 0, x.shape[1] - out.shape[1])))
        return torch.cat(outputs)  # (N, T, D)

    def fid(self, motions: Tensor) -> Tensor:
        """FID (0-d, float64) of generated (N, T, D) motions against the real items."""
        gen = self.generator
        embeddings = embed(self.evaluator, motions, self.items.lengths, gen.mean, gen.std)
        return fid_to(self.real, embeddings)

    @torch.no_grad()
    def grid_search(self, values: Sequence[float]) -> tuple[list[float], list[GridPoint]]:
        """Best coarse weights (4,) and every (w1, w2, FID) of the values x values grid."""
        table = []
        for w1 in values:
            for w2 in values:
                weights = torch.tensor(coarse_weights(w1, w2))
                motions = self.sample(weights, 0, self.sampler.num_steps, self.noise)
                value = float(self.fid(motions))
                table.append(GridPoint(w1, w2, value if np.isfinite(value) else float("inf")))
                log.info("grid w1=%+.2f w2=%+.2f fid=%.4f", w1, w2, value)
        best = min(table, key=lambda point: point.fid)
        return coarse_weights(best.w1, best.w2), table

    def learn_fine_weights(
        self, coarse: Sequence[float], steps: int = 1000, lr: float = 0.01
    ) -> tuple[list[float], list[float]]:
        """Fine weights (4,) with the lowest differentiable FID seen, and the FID per Adam step.

        Starts from (coarse[0], coarse[1], coarse[2]); w4 = 1 - w1 - w2 - w3.
        """
        with torch.no_grad():
            x_switch = self.sample(torch.tensor(list(coarse)), 0, self.switch, self.noise)
        free = torch.nn.Parameter(torch.tensor(list(coarse[:3]), dtype=torch.float32))
        optimizer = torch.optim.Adam([free], lr=lr)
        curve: list[float] = []
        best_weights, best_fid = list(coarse), float("inf")
        for step in range(steps):
            weights = torch.cat([free, 1 - free.sum(0, keepdim=True)])  # (4,)
            motions = self.sample(weights, self.switch, self.sampler.num_steps, x_switch)
            loss = self.fid(motions)
            optimizer.zero_grad()
            loss.backward()
            value = float(loss.detach())
            curve.append(value)
            if value < best_fid:
                best_weights, best_fid = weights.detach().double().tolist(), value
            log.info("adam step %d fid=%.4f weights=%s", step, value, weights.tolist())
            optimizer.step()
        best_weights[3] = 1.0 - sum(best_weights[:3])
        return best_weights, curve


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


def run_search(
    search: MixtureSearch,
    values: Sequence[float],
    learn_steps: int,
    lr: float,
    out_dir: str | Path,
) -> tuple[Path, dict[str, Any]]:
    """Grid search, then fine-weight learning; writes mixture.yaml and mixture_search.json."""
    coarse, table = search.grid_search(values)
    log.info("grid FID:\n%s", grid_table(table))
    fine, curve = search.learn_fine_weights(coarse, learn_steps, lr)
    log.info("coarse %s, fine %s", coarse, fine)
    mixture = PaperMixture(coarse, fine, search.switch_fraction)
    out_dir = Path(out_dir)
    path = save_mixture_yaml(out_dir / MIXTURE_FILENAME, mixture)
    report = {
        "coarse": [float(w) for w in mixture.coarse],
        "fine": [float(w) for w in mixture.fine],
        "switch_fraction": search.switch_fraction,
        "sampler_steps": search.sampler.num_steps,
        "switch_step": search.switch,
        "num_items": len(search.items.texts),
        "grid": [{"w1": p.w1, "w2": p.w2, "fid": p.fid} for p in table],
        "learning_curve": curve,
    }
    (out_dir / SEARCH_FILENAME).write_text(json.dumps(report, indent=2))
    return path, report
