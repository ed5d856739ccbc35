"""Text -> motion with a trained run: load it, retrieve, sample with the condition mixture."""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from remodiffuse.configs import instantiate, plain_dict
from remodiffuse.diffusion import (
    ModelCall,
    Window,
    X0Constraint,
    build_diffusion,
    build_sampler,
    check_sigma,
    constrained,
    fused,
    mixture_denoise_fn,
    mixture_for,
    sample_loop,
    smooth_in_time,
)
from remodiffuse.errors import InputError
from remodiffuse.models import SemanticsModulatedTransformer
from remodiffuse.motion import denormalize, joints_from_features, normalize
from remodiffuse.motion.masks import length_mask
from remodiffuse.pipeline.prompt_batch import PromptBatch, autocast
from remodiffuse.pipeline.retrieval_conditions import (
    encode_retrieved,
    prompt_keys,
    query_neighbours,
    shuffled_neighbours,
)
from remodiffuse.pipeline.run_files import DATABASE_DIR, load_run, load_statistics
from remodiffuse.pipeline.timeline import (
    DEFAULT_OVERLAP,
    Segment,
    check_segments,
    plan_windows,
    segment_records,
)
from remodiffuse.retrieval import RetrievalDatabase

log = logging.getLogger(__name__)

NEIGHBOUR_MODES = ("retrieved", "shuffled")
StepReport = Callable[[int, int], None]  # (sampler steps done, sampler steps in all)


@dataclass(frozen=True)
class GeneratedMotion:
    """One sample: denormalised features (T, D) and the joints they recover (T, J, 3)."""

    text: str
    length: int
    features: np.ndarray  # (T, D) denormalised
    joints: np.ndarray  # (T, J, 3)
    retrieved: list[str]  # captions of the retrieved database entries, best first (per window)
    # a timeline's segments: text, start, stop (frames) and windows (start, stop, retrieved)
    segments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KnownMotion:
    """What is known of one prompt's motion, in the dataset's feature layout: (T, D) features
    and a (T, D) weight in [0, 1] (1: pinned, reproduced exactly; between: blended at every
    step; 0: free). T is the requested length."""

    features: np.ndarray  # (T, D) denormalised; entries with weight 0 are not read
    weight: np.ndarray  # (T, D)


def retrieved_of(database: RetrievalDatabase, neighbours: Sequence[int]) -> list[str]:
    """Captions of database entries, in order."""
    return [str(database.captions[i]) for i in neighbours]


class MotionGenerator:
    """A trained run ready to sample: model, text encoder, retrieval database and statistics.

    mixture: a conf/mixture config (default: the run's mixture.yaml, else the released form).
    use_retrieval=False switches the retrieval condition off in every mixture branch (the
    no-retrieval baseline of the paper's Table 6, for a run trained with retrieval_dropout=1).
    neighbours="shuffled" replaces each prompt's retrieved entries by random database entries
    (none of them retrieved for it; drawn from the generation seed): the control that shows
    what the retrieved motions' content adds.
    precision="bf16" runs the network under bf16 autocast (the sampler stays fp32).
    smoothing=sigma low-passes the sampled motions over time with a Gaussian of sigma frames,
    constraints re-applied after it (`remodiffuse.diffusion.smoothing`; 0 = off, as the paper).
    loaded=(model, config, run_dir) samples a model already in memory (e.g. the one being
    trained, whose run_dir has the statistics and database) instead of reading `path`.
    """

    def __init__(
        self,
        path: str | Path,
        device: str | torch.device = "cpu",
        database: str | Path | None = None,
        mixture: Mapping[str, Any] | None = None,
        use_retrieval: bool = True,
        precision: str = "fp32",
        neighbours: str = "retrieved",
        loaded: tuple[SemanticsModulatedTransformer, dict[str, Any], Path] | None = None,
        smoothing: float = 0.0,
    ) -> None:
        autocast(precision, torch.device(device))  # an unknown precision fails before loading
        if neighbours not in NEIGHBOUR_MODES:
            raise InputError(f"neighbours must be one of {NEIGHBOUR_MODES}, got {neighbours!r}")
        self.neighbours = neighbours
        self.smoothing = check_sigma(smoothing)
        self.model, self.config, self.run_dir = loaded or load_run(path, device)
        self.use_retrieval = use_retrieval
        self.precision = precision
        self.device = torch.device(device)
        dataset = self.config["dataset"]
        self.skeleton = dataset["skeleton"]
        self.min_length, self.max_length = dataset["min_length"], dataset["max_length"]
        statistics = load_statistics(self.run_dir)
        if statistics is None:
            raise InputError(f"{self.run_dir} has no mean.npy/std.npy: not a training run")
        self.mean, self.std = statistics
        self.encoder = instantiate(self.config["text_encoder"]).to(self.device)
        database_dir = Path(database) if database else self.run_dir / DATABASE_DIR
        self.database = RetrievalDatabase.load(database_dir)
        self.database.check_encoder(self.encoder.identity)
        database_statistics = load_statistics(database_dir) or (self.mean, self.std)
        same = all(
            np.array_equal(a, b)
            for a, b in zip(database_statistics, (self.mean, self.std), strict=True)
        )
        self.retrieval_statistics = None if same else (*database_statistics, self.mean, self.std)
        self.mixture = mixture_for(dataset["name"], checkpoint_dir=self.run_dir, cfg=mixture)
        self.diffusion = build_diffusion(self.config["diffusion"])

    @classmethod
    def from_run(cls, path: str | Path, **options: Any) -> "MotionGenerator":
        """The generator of a run directory or .ckpt (options as `__init__`)."""
        return cls(path, **options)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "MotionGenerator":
        """The generator of an entry point's ckpt, device, database, mixture, use_retrieval,
        precision, neighbours, smoothing."""
        mixture = options.get("mixture")
        return cls(
            Path(options["ckpt"]).expanduser().resolve(),
            options.get("device", "cpu"),
            database=Path(options["database"]).resolve() if options.get("database") else None,
            mixture=plain_dict(mixture),
            use_retrieval=options.get("use_retrieval", True),
            precision=options.get("precision", "fp32"),
            neighbours=options.get("neighbours", "retrieved"),
            smoothing=options.get("smoothing", 0.0),
        )

    def check_length(self, length: int) -> None:
        """Raise InputError unless the model can generate `length` frames."""
        if not self.min_length <= length <= self.max_length:
            raise InputError(
                f"length {length} is outside the model's range "
                f"[{self.min_length}, {self.max_length}] frames"
            )

    def sampler(self, steps: int | str | None = None, name: str | None = None):
        """The run's sampler, or the sampler `name`, on the run's respacing or `steps`;
        InputError for an unusable `steps`."""
        if isinstance(steps, bool) or (isinstance(steps, int) and steps < 1):
            raise InputError(f"steps={steps!r}: need at least 1 sampler step")
        try:
            return build_sampler(self.config["diffusion"], self.diffusion, steps=steps, name=name)
        except ValueError as error:
            raise InputError(f"steps={steps!r}: {error}") from None

    def prompt_batch(
        self,
        texts: Sequence[str],
        lengths: Sequence[int] | np.ndarray,
        motion_ids: Sequence[str] | None = None,
        seed: int = 0,
    ) -> PromptBatch:
        """Encode prompts, retrieve (excluding `motion_ids`' own motions when given) and encode
        the retrieved entries; lengths (B,) set the valid-frame mask. `seed` draws the
        shuffled neighbours (neighbours="shuffled")."""
        features = self.encoder.encode(list(texts))
        lengths = np.asarray(lengths, dtype=np.int64)  # (B,)
        keys = prompt_keys(self.database, features)  # (B, Dk)
        neighbours = query_neighbours(self.database, keys, lengths, motion_ids)  # (B, k)
        if self.neighbours == "shuffled":
            neighbours = shuffled_neighbours(
                neighbours, len(self.database), np.random.default_rng(seed)
            )
        conditions = encode_retrieved(
            self.model,
            self.database,
            neighbours,
            features.tokens,
            features.mask,
            self.max_length,
            self.retrieval_statistics,
        )
        mask = length_mask(torch.from_numpy(lengths), int(lengths.max()))  # (B, T)
        return PromptBatch(
            self.model,
            conditions,
            neighbours,
            mask.to(self.device),
            self.use_retrieval,
            self.precision,
        )

    @torch.no_grad()
    def generate(
        self,
        texts: Sequence[str],
        lengths: Sequence[int],
        seed: int = 0,
        steps: int | str | None = None,
        sampler: str | None = None,
        known: Sequence[KnownMotion | None] | None = None,
        on_step: StepReport | None = None,
    ) -> list[GeneratedMotion]:
        """One motion per (text, length); the same seed gives the same motions. steps and
        sampler override the run's respacing and sampler (see `MotionGenerator.sampler`).
        known[i] constrains motion i's predicted x0 at every step (continuation, keyframes,
        body parts; `remodiffuse.diffusion.constraints`). on_step(done, total) follows after
        every sampler step."""
        for length in lengths:
            self.check_length(int(length))
        self._warn_truncated(texts)
        prompts = self.prompt_batch(texts, lengths, seed=seed)
        shape = (prompts.size, prompts.mask.shape[1], self.model.config.input_feats)
        motions = self._sample(
            prompts.model_call, shape, seed, steps, sampler, known, lengths, texts, on_step=on_step
        )
        return [
            self._motion(text, motions[row, :length], prompts.neighbours[row])
            for row, (text, length) in enumerate(zip(texts, lengths, strict=True))
        ]

    @torch.no_grad()
    def generate_timeline(
        self,
        segments: Sequence[Segment],
        seed: int = 0,
        steps: int | str | None = None,
        sampler: str | None = None,
        known: KnownMotion | None = None,
        overlap: int = DEFAULT_OVERLAP,
        on_step: StepReport | None = None,
    ) -> GeneratedMotion:
        """One motion of segments[-1].stop frames following the segments' prompts: windows of at
        most max_length frames (`plan_windows`), each with its own retrieval at its own length,
        share one mixture coin per step and are fused on their overlaps at every step
        (`remodiffuse.diffusion.windows`). One segment of at most max_length frames gives what
        `generate` gives with the same seed."""
        check_segments(segments, self.min_length, fps=self.config["dataset"]["fps"])
        windows = plan_windows(segments, self.max_length, overlap)
        texts = [segments[window.segment].text for window in windows]
        self._warn_truncated(texts)
        prompts = self.prompt_batch(texts, [window.length for window in windows], seed=seed)
        total = segments[-1].stop
        shape = (1, total, self.model.config.input_feats)
        motion = self._sample(
            prompts.model_call,
            shape,
            seed,
            steps,
            sampler,
            [known],
            [total],
            texts,
            windows,
            on_step,
        )[0]  # (L, D)
        retrieved = [retrieved_of(self.database, row) for row in prompts.neighbours]
        return replace(
            self._motion(" then ".join(s.text for s in segments), motion, []),
            retrieved=[caption for captions in retrieved for caption in captions],
            segments=segment_records(segments, windows, retrieved),
        )

    def _warn_truncated(self, texts: Sequence[str]) -> None:
        for row in self.encoder.truncated(texts):
            log.warning(
                "prompt %r is longer than the text encoder's %d tokens: its end is cut",
                texts[row],
                self.encoder.max_tokens,
            )

    def _sample(
        self,
        model_call: ModelCall,
        shape: tuple[int, int, int],
        seed: int,
        steps: int | str | None,
        sampler_name: str | None,
        known: Sequence[KnownMotion | None] | None,
        lengths: Sequence[int],
        texts: Sequence[str],
        windows: Sequence[Window] | None = None,
        on_step: StepReport | None = None,
    ) -> np.ndarray:
        """(B, T, D) denormalised motions sampled from seeded noise of `shape`, constrained by
        `known`; with `windows`, one (1, L, D) sequence fused from the windows' predictions."""
        sampler = self.sampler(steps, name=sampler_name)
        self.mixture.reset(seed)
        noise = torch.randn(shape, generator=torch.Generator().manual_seed(seed))  # (B, T, D)
        raw_known, weight = self._known_arrays(known, lengths, shape)  # (B, T, D) x 2
        constraint = None
        if weight.any():
            values = normalize(raw_known, self.mean, self.std).astype(np.float32)  # (B, T, D)
            constraint = X0Constraint(
                torch.from_numpy(values).to(self.device), torch.from_numpy(weight).to(self.device)
            )
        denoise = mixture_denoise_fn(self.mixture, model_call, sampler)
        if windows is not None:
            denoise = fused(denoise, windows, shape[1])

        def report(index: int, _t: int, _x: torch.Tensor, _x0: torch.Tensor) -> None:
            on_step(index + 1, sampler.num_steps)

        x0 = sample_loop(
            constrained(denoise, constraint),
            noise.to(self.device),
            sampler,
            callback=None if on_step is None else report,
        )
        if self.smoothing:
            valid = length_mask(torch.as_tensor(list(lengths)), shape[1]).to(x0.device)  # (B, T)
            x0 = smooth_in_time(x0, valid, self.smoothing)
            if constraint is not None:
                x0 = constraint.apply(x0)
        motions = denormalize(x0.cpu().numpy(), self.mean, self.std)  # (B, T, D)
        if constraint is not None:
            motions = np.where(weight == 1, raw_known, motions)  # pinned: exact, not round-tripped
        broken = [row for row, n in enumerate(lengths) if not np.isfinite(motions[row, :n]).all()]
        if broken:
            raise InputError(
                f"{self.run_dir}: the model produced non-finite motions for prompts "
                f"{[texts[row] for row in broken[:3]]}: its weights are probably broken "
                "(a training run that diverged)"
            )
        return motions

    def _motion(
        self, text: str, features: np.ndarray, neighbours: Sequence[int]
    ) -> GeneratedMotion:
        """A GeneratedMotion of (T, D) features with the captions of its database entries."""
        features = features.astype(np.float32)
        return GeneratedMotion(
            text=text,
            length=int(features.shape[0]),
            features=features,
            joints=joints_from_features(features, self.skeleton),
            retrieved=retrieved_of(self.database, neighbours),
        )

    def _known_arrays(
        self,
        known: Sequence[KnownMotion | None] | None,
        lengths: Sequence[int],
        shape: tuple[int, int, int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, T, D) known features (0 where unknown) and (B, T, D) weights, padded to T."""
        values, weight = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        if known is None:
            return values, weight
        if len(known) != len(lengths):
            raise InputError(f"{len(known)} known motions for {len(lengths)} prompts")
        for row, item in enumerate(known):
            if item is None:
                continue
            expected = (int(lengths[row]), shape[2])
            for name in ("features", "weight"):
                if np.shape(getattr(item, name)) != expected:
                    raise InputError(
                        f"known motion {row}: {name} of shape {np.shape(getattr(item, name))}, "
                        f"expected {expected} (the requested length x the feature width)"
                    )
            item_weight = np.asarray(item.weight, np.float32)  # X0Constraint checks its range
            values[row, : expected[0]] = np.where(item_weight > 0, item.features, 0.0)
            weight[row, : expected[0]] = item_weight
        return values, weight
