"""The text-to-motion evaluation protocol: replicated FID, R-precision, MM-Dist, Diversity,
MultiModality and rareness-aware MM-Dist of a trained run, against the real test motions, and
the bone-length variation of the joints the motions recover (`remodiffuse.metrics.bones`).

Each replication shuffles the test order with its own seeded generator, generates one motion
per test caption, and scores real and generated motions with one evaluator; the reported value
is the mean and 95% interval over replications (`metric_statistics`).
"""

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from rich.progress import Progress

from remodiffuse.errors import InputError
from remodiffuse.evaluation.items import EvaluationItems, padded
from remodiffuse.evaluators import MotionTextEvaluator
from remodiffuse.metrics import (
    balanced_mm_dist,
    bone_length_variation,
    diversity,
    draw_pairs,
    fid,
    matching_distances,
    matching_score,
    metric_statistics,
    multimodality,
    r_precision,
    rareness,
    tail_mm_dist,
)
from remodiffuse.motion import Skeleton, denormalize, get_skeleton, joints_from_features, normalize
from remodiffuse.motion.skeleton import SKELETON_NAMES
from remodiffuse.pipeline import MotionGenerator, prompt_keys

log = logging.getLogger(__name__)

REAL_ROW = "real motions"
REAL_PASS_STREAM = 1  # the real pass draws from its own stream: the model row's draws stay put
# metric key -> Markdown column header, in table order
METRIC_COLUMNS = {
    "fid": "FID",
    "r_precision_top1": "R-precision top1",
    "r_precision_top2": "R-precision top2",
    "r_precision_top3": "R-precision top3",
    "mm_dist": "MM-Dist",
    "diversity": "Diversity",
    "multimodality": "MultiModality",
    "tail_mm_dist": "tail-5% MM",
    "balanced_mm_dist": "balanced MM",
    "bone_length_cv": "bone-length CV %",
    "bone_length_range_cm": "worst bone range cm",
}
CENTIMETRES_PER_UNIT = {"m": 100.0, "mm": 0.1}  # per skeleton unit
# MultiModality prompts per dataset name when mm_num_samples is None (the standard protocol)
DEFAULT_MM_SAMPLES = {"kit": 50}
DEFAULT_MM_SAMPLES_FALLBACK = 100


@dataclass(frozen=True)
class EvaluationSettings:
    """Protocol options; `replications=1` is the quick mode, `mm_num_samples=0` skips MM."""

    replications: int = 20
    seed: int = 0
    num_test: int | None = None  # first num_test test items (None = all)
    steps: int | str | None = None  # sampler steps (None = the run's respacing)
    sampler: str | None = None  # sampler name (None = the run's)
    batch_size: int = 32  # prompts per generate call and motions per evaluator call
    bucket_by_length: bool = True  # batch prompts of similar length (less padding)
    rprecision_batch_size: int = 32
    drop_last: bool = True
    diversity_pairs: int = 300
    mm_num_samples: int | None = None  # None = 100 (HumanML3D) / 50 (KIT)
    mm_num_repeats: int = 30
    mm_num_picks: int = 10
    tail_fraction: float = 0.05
    balanced_bins: int = 100

    def __post_init__(self) -> None:
        for name in ("replications", "batch_size", "rprecision_batch_size", "diversity_pairs"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_test is not None and self.num_test < 1:
            raise InputError(f"num_test must be >= 1 or null, got {self.num_test}")
        if self.mm_num_samples is not None and self.mm_num_samples < 0:
            raise InputError(f"mm_num_samples must be >= 0, got {self.mm_num_samples}")
        if not 0 < self.mm_num_picks <= self.mm_num_repeats:
            raise InputError(
                f"need 0 < mm_num_picks <= mm_num_repeats, got {self.mm_num_picks} and "
                f"{self.mm_num_repeats}"
            )


def embed_motions(
    evaluator: MotionTextEvaluator,
    motions: Sequence[np.ndarray],
    mean: np.ndarray,
    std: np.ndarray,
    batch_size: int,
) -> np.ndarray:
    """(N, E) embeddings of N (T_i, D) motions normalised with mean / std, in batches."""
    chunks = []
    for start in range(0, len(motions), batch_size):
        batch = motions[start : start + batch_size]
        lengths = [motion.shape[0] for motion in batch]
        chunks.append(evaluator.embed_motions(padded(batch), lengths, mean, std))
    return np.concatenate(chunks)


def embed_texts(
    evaluator: MotionTextEvaluator,
    captions: Sequence[str],
    tokens: Sequence[list[str]],
    batch_size: int,
) -> np.ndarray:
    """(Q, E) text embeddings of Q captions (and their `word/POS` tokens), in batches."""
    chunks = [
        evaluator.embed_texts(
            list(captions[start : start + batch_size]), list(tokens[start : start + batch_size])
        )
        for start in range(0, len(captions), batch_size)
    ]
    return np.concatenate(chunks)


def check_inputs(
    generator: MotionGenerator,
    evaluator: MotionTextEvaluator,
    test: EvaluationItems,
    settings: EvaluationSettings,
) -> None:
    """ValueError on mismatched feature dimensions or too few test items for one batch."""
    dims = {
        "evaluator": evaluator.feature_dim,
        "model": int(generator.mean.shape[0]),
        "test set": int(test.mean.shape[0]),
    }
    if len(set(dims.values())) != 1:
        raise InputError(
            "the evaluator, the model and the test set must share the motion feature dimension, "
            f"got {dims}"
        )
    if len(test) < 2:
        raise InputError(f"the test set has {len(test)} item(s); FID needs at least 2")
    if settings.drop_last and len(test) < settings.rprecision_batch_size:
        raise InputError(
            f"the test set has {len(test)} items, fewer than one R-precision batch of "
            f"{settings.rprecision_batch_size} with drop_last=True: use more test items "
            "(num_test), a smaller rprecision_batch_size or drop_last=false"
        )


def _scaled(requested: int, available: int, what: str) -> int:
    """min(requested, available), warning when it scales down."""
    if requested > available:
        log.warning(
            "%s: %d requested but only %d test items; using %d",
            what,
            requested,
            available,
            available,
        )
    return min(requested, available)


def caption_features(generator: MotionGenerator, captions: list[str]) -> np.ndarray:
    """(Q, Dk) retrieval keys of captions with the run's text encoder."""
    return prompt_keys(generator.database, generator.encoder.encode(captions))


def caption_rareness(generator: MotionGenerator, captions: list[str]) -> np.ndarray:
    """(Q,) rareness of captions against the database's training captions."""
    return rareness(caption_features(generator, captions), generator.database.sentence_features)


class _Generation:
    """Generated motions in the model's normalisation, batched, with a progress bar.

    With bucket_by_length, each batch takes prompts of neighbouring lengths (the batch is
    padded to its longest motion); the motions come back in the callers' order either way.
    """

    def __init__(
        self, generator: MotionGenerator, settings: EvaluationSettings, progress: Progress
    ) -> None:
        self.generator = generator
        self.settings = settings
        self.progress = progress

    def __call__(
        self, captions: list[str], lengths: np.ndarray, rng: np.random.Generator, label: str
    ) -> list[np.ndarray]:
        """One (T_i, D) normalised motion per caption; one seed per batch drawn from rng."""
        size = self.settings.batch_size
        order = (
            np.argsort(lengths, kind="stable")
            if self.settings.bucket_by_length
            else np.arange(len(captions))
        )  # (Q,) generation order
        task = self.progress.add_task(label, total=len(captions))
        motions: list[np.ndarray] = [np.empty(0)] * len(captions)
        for start in range(0, len(captions), size):
            rows = order[start : start + size]  # (b,)
            seed = int(rng.integers(2**31))
            generated = self.generator.generate(
                [captions[row] for row in rows],
                lengths[rows].tolist(),
                seed=seed,
                steps=self.settings.steps,
                sampler=self.settings.sampler,
            )
            for row, sample in zip(rows, generated, strict=True):
                motions[row] = normalize(
                    sample.features, self.generator.mean, self.generator.std
                ).astype(np.float32)
            self.progress.advance(task, len(generated))
        self.progress.remove_task(task)
        return motions


def matching_metrics(
    text_emb: np.ndarray, motion_emb: np.ndarray, batch_size: int = 32, drop_last: bool = True
) -> dict[str, float]:
    """R-precision top1-3 and MM-Dist of (Q, E) paired embeddings, in batches."""
    top = r_precision(text_emb, motion_emb, batch_size=batch_size, drop_last=drop_last)  # (3,)
    return {
        "r_precision_top1": float(top[0]),
        "r_precision_top2": float(top[1]),
        "r_precision_top3": float(top[2]),
        "mm_dist": matching_score(text_emb, motion_emb, batch_size=batch_size, drop_last=drop_last),
    }


def _paired_metrics(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    rare: np.ndarray,
    settings: EvaluationSettings,
) -> dict[str, float]:
    """R-precision top1-3, MM-Dist and rareness-aware MM of (Q, E) paired embeddings."""
    distances = matching_distances(text_emb, motion_emb)  # (Q,)
    return matching_metrics(
        text_emb, motion_emb, settings.rprecision_batch_size, settings.drop_last
    ) | {
        "tail_mm_dist": tail_mm_dist(distances, rare, settings.tail_fraction),
        "balanced_mm_dist": balanced_mm_dist(distances, rare, settings.balanced_bins),
    }


def _scores(
    text_emb: np.ndarray,
    motion_emb: np.ndarray,
    real_emb: np.ndarray,
    rare: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    settings: EvaluationSettings,
) -> dict[str, float]:
    """All per-replication metrics but MultiModality of (Q, E) motion embeddings."""
    return {
        "fid": fid(real_emb, motion_emb),
        "diversity": diversity(motion_emb, first, second),
    } | _paired_metrics(text_emb, motion_emb, rare, settings)


def _real_scores(
    evaluator: MotionTextEvaluator,
    test: EvaluationItems,
    pool: tuple[np.ndarray, np.ndarray],
    real: np.ndarray,
    order: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    rng: np.random.Generator,
    settings: EvaluationSettings,
    skeleton: Skeleton,
) -> dict[str, float]:
    """The real-motion row: a second pass over the test items, drawn with rng, against the
    (Q, E) reference embeddings `real` (already in replication order). pool = text embeddings
    (C, E) and rareness (C,) of the items' captions, indexed by `caption_index`."""
    again = test.redrawn(rng)
    motion_emb = embed_motions(evaluator, again.motions, again.mean, again.std, settings.batch_size)
    caption = again.caption_index[order]  # (Q,)
    pool_emb, pool_rare = pool
    return _scores(
        pool_emb[caption], motion_emb[order], real, pool_rare[caption], first, second, settings
    ) | bone_scores(again.motions, again.mean, again.std, skeleton)


def skeleton_of(feature_dim: int) -> Skeleton:
    """The skeleton whose features are `feature_dim` wide (263: HumanML3D, 251: KIT)."""
    for name in SKELETON_NAMES:
        if get_skeleton(name).feature_dim == feature_dim:
            return get_skeleton(name)
    raise InputError(f"no skeleton has {feature_dim} motion features")


def bone_scores(
    motions: Sequence[np.ndarray], mean: np.ndarray, std: np.ndarray, skeleton: Skeleton
) -> dict[str, float]:
    """Bone-length variation of the joints recovered from N (T_i, D) normalised motions."""
    joints = [joints_from_features(denormalize(motion, mean, std), skeleton) for motion in motions]
    return bone_length_variation(joints, skeleton.parents, CENTIMETRES_PER_UNIT[skeleton.unit])


def evaluate(
    generator: MotionGenerator,
    evaluator: MotionTextEvaluator,
    test: EvaluationItems,
    settings: EvaluationSettings,
    dataset_name: str,
    checkpoint: str,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run the protocol; returns the metrics.json content (rows of mean / conf95 / values)."""
    check_inputs(generator, evaluator, test, settings)
    skeleton = skeleton_of(int(test.mean.shape[0]))
    count = len(test)
    pairs = _scaled(settings.diversity_pairs, count, "diversity pairs")
    requested_mm = (
        settings.mm_num_samples
        if settings.mm_num_samples is not None
        else DEFAULT_MM_SAMPLES.get(dataset_name, DEFAULT_MM_SAMPLES_FALLBACK)
    )
    mm_samples = _scaled(requested_mm, count, "MultiModality prompts")
    pool_captions, pool_tokens = test.caption_pool()  # every caption a real pass can draw
    pool = (
        embed_texts(evaluator, pool_captions, pool_tokens, settings.batch_size),  # (C, E)
        caption_rareness(generator, pool_captions),  # (C,)
    )
    text_emb, rare = (values[test.caption_index] for values in pool)  # (Q, E), (Q,)
    real_emb = embed_motions(
        evaluator, test.motions, test.mean, test.std, settings.batch_size
    )  # (Q, E)

    values: dict[str, dict[str, list[float]]] = {REAL_ROW: {}, "model": {}}

    def record(row: str, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            values[row].setdefault(name, []).append(value)

    with Progress(disable=not show_progress) as progress:
        generate = _Generation(generator, settings, progress)
        replications = progress.add_task("replications", total=settings.replications)
        for replication in range(settings.replications):
            rng = np.random.default_rng([settings.seed, replication])
            real_rng = np.random.default_rng([settings.seed, replication, REAL_PASS_STREAM])
            order = rng.permutation(count)  # (Q,)
            captions = [test.captions[i] for i in order]
            generated = generate(captions, test.lengths[order], rng, "generating")
            gen_emb = embed_motions(
                evaluator, generated, generator.mean, generator.std, settings.batch_size
            )  # (Q, E)
            first, second = draw_pairs(count, pairs, rng)  # (P,), (P,)
            real, texts, rare_order = real_emb[order], text_emb[order], rare[order]  # (Q, ...)
            record(
                REAL_ROW,
                _real_scores(
                    evaluator, test, pool, real, order, first, second, real_rng, settings, skeleton
                ),
            )
            scores = _scores(texts, gen_emb, real, rare_order, first, second, settings)
            scores |= bone_scores(generated, generator.mean, generator.std, skeleton)
            if mm_samples > 0:
                scores["multimodality"] = _multimodality(
                    generate, evaluator, generator, test, settings, mm_samples, rng
                )
            record("model", scores)
            progress.advance(replications)

    run_name = generator.run_dir.name
    rows = {
        row: {name: _summary(vals) for name, vals in metrics.items()}
        for row, metrics in ((REAL_ROW, values[REAL_ROW]), (run_name, values["model"]))
    }
    recorded = asdict(settings) | {
        "dataset": dataset_name,
        "num_test_items": count,
        "diversity_pairs_used": pairs,
        "mm_num_samples_used": mm_samples,
        "use_retrieval": generator.use_retrieval,
        "neighbours": generator.neighbours,
        "precision": generator.precision,
        "smoothing": generator.smoothing,
    }
    return {
        "evaluator": evaluator.name,
        "checkpoint": checkpoint,
        "replications": settings.replications,
        "settings": recorded,
        "rows": rows,
    }


def _multimodality(
    generate: _Generation,
    evaluator: MotionTextEvaluator,
    generator: MotionGenerator,
    test: EvaluationItems,
    settings: EvaluationSettings,
    num_samples: int,
    rng: np.random.Generator,
) -> float:
    """MultiModality over num_samples random test prompts x mm_num_repeats generations."""
    repeats = settings.mm_num_repeats
    chosen = rng.choice(len(test), num_samples, replace=False)  # (S,)
    indices = np.repeat(chosen, repeats)  # (S * R,)
    captions = [test.captions[i] for i in indices]
    motions = generate(captions, test.lengths[indices], rng, "multimodality")
    emb = embed_motions(evaluator, motions, generator.mean, generator.std, settings.batch_size)
    first, second = draw_pairs(repeats, settings.mm_num_picks, rng)  # (P,), (P,)
    return multimodality(emb.reshape(num_samples, repeats, -1), first, second)


def _summary(values: list[float]) -> dict[str, Any]:
    """{"mean", "conf95", "values"} of one metric over replications."""
    mean, conf = metric_statistics(values)
    return {"mean": float(mean), "conf95": float(conf), "values": [float(v) for v in values]}


def settings_from_options(options: Any) -> EvaluationSettings:
    """EvaluationSettings from the matching keys of a mapping (conf/evaluate.yaml's top level)."""
    names = EvaluationSettings.__dataclass_fields__
    return EvaluationSettings(**{name: options[name] for name in names if name in options})
