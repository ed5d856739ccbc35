"""Text -> motion with a trained run: load it, retrieve, sample with the condition mixture."""

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from hydra.utils import to_absolute_path
from omegaconf import DictConfig, OmegaConf
from safetensors.torch import load_file

from remodiffuse.diffusion import (
    build_diffusion,
    build_sampler,
    mixture_denoise_fn,
    mixture_for,
    sample_loop,
)
from remodiffuse.models import ModelConfig, SemanticsModulatedTransformer
from remodiffuse.models.pretrained import CONFIG_FILE, WEIGHTS_FILE
from remodiffuse.motion import denormalize, joints_from_features
from remodiffuse.retrieval import RetrievalDatabase
from remodiffuse.stages.conditioning import encode_retrieved, load_statistics
from remodiffuse.stages.diffusion_stage import INFERENCE_DATABASE_DIR


@dataclass(frozen=True)
class GeneratedMotion:
    """One sample: denormalised features (T, D) and the joints they recover (T, J, 3)."""

    text: str
    length: int
    features: np.ndarray  # (T, D) denormalised
    joints: np.ndarray  # (T, J, 3)
    retrieved: list[str]  # captions of the retrieved database entries, best first


def load_run(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[SemanticsModulatedTransformer, dict[str, Any], Path]:
    """(model in eval mode, inference config, run directory) from a run dir or a Lightning .ckpt.

    A run directory holds model.safetensors + config.yaml (written when training ends) or
    checkpoints/last.ckpt; a .ckpt inside <run>/checkpoints/ takes mean/std/database from <run>.
    """
    path = Path(path).expanduser()
    if path.is_dir() and (path / WEIGHTS_FILE).is_file():
        config = OmegaConf.to_container(OmegaConf.load(path / CONFIG_FILE), resolve=True)
        state = load_file(str(path / WEIGHTS_FILE))
        run_dir = path
    else:
        checkpoint_path = path / "checkpoints" / "last.ckpt" if path.is_dir() else path
        if not checkpoint_path.is_file():
            raise FileNotFoundError(
                f"no trained model at {path}: expected a run directory with {WEIGHTS_FILE} and "
                f"{CONFIG_FILE} (or checkpoints/last.ckpt), or a Lightning .ckpt file"
            )
        config, state = _read_lightning_checkpoint(checkpoint_path)
        parent = checkpoint_path.parent
        run_dir = parent.parent if parent.name == "checkpoints" else parent
    model = SemanticsModulatedTransformer(ModelConfig.from_dict(config["model"]))
    model.load_state_dict(state)
    return model.to(device).eval(), config, run_dir


def _read_lightning_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Inference config and model weights of a DiffusionStage checkpoint (loaded weights-only)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        hparams = checkpoint["hyper_parameters"]
        config = {key: hparams[key] for key in ("model", "diffusion", "text_encoder", "retrieval")}
    except (KeyError, TypeError, RuntimeError, EOFError, OSError, pickle.UnpicklingError) as error:
        raise ValueError(f"{path} is not a remodiffuse diffusion checkpoint: {error}") from error
    data = checkpoint.get("datamodule_hyper_parameters", {})
    config["dataset"] = {
        key: data.get(key) for key in ("name", "skeleton", "fps", "min_length", "max_length")
    }
    prefix = "model."
    state = {
        k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)
    }
    return config, state


class MotionGenerator:
    """A trained run ready to sample: model, text encoder, retrieval database and statistics.

    mixture: a conf/mixture config (default: the run's mixture.yaml, else the released form).
    use_retrieval=False switches the retrieval condition off in every mixture branch (the
    no-retrieval baseline of the paper's Table 6, for a run trained with retrieval_dropout=1).
    """

    def __init__(
        self,
        path: str | Path,
        device: str | torch.device = "cpu",
        database: str | Path | None = None,
        mixture: Mapping[str, Any] | None = None,
        use_retrieval: bool = True,
    ) -> None:
        self.model, self.config, self.run_dir = load_run(path, device)
        self.use_retrieval = use_retrieval
        self.device = torch.device(device)
        dataset = self.config["dataset"]
        self.skeleton = dataset["skeleton"]
        self.min_length, self.max_length = dataset["min_length"], dataset["max_length"]
        statistics = load_statistics(self.run_dir)
        if statistics is None:
            raise FileNotFoundError(f"{self.run_dir} has no mean.npy/std.npy: not a training run")
        self.mean, self.std = statistics
        self.encoder = hydra.utils.instantiate(self.config["text_encoder"]).to(self.device)
        database_dir = Path(database) if database else self.run_dir / INFERENCE_DATABASE_DIR
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

    def check_length(self, length: int) -> None:
        """Raise ValueError unless the model can generate `length` frames."""
        if not self.min_length <= length <= self.max_length:
            raise ValueError(
                f"length {length} is outside the model's range "
                f"[{self.min_length}, {self.max_length}] frames"
            )

    @torch.no_grad()
    def generate(
        self,
        texts: Sequence[str],
        lengths: Sequence[int],
        seed: int = 0,
        steps: int | str | None = None,
    ) -> list[GeneratedMotion]:
        """One motion per (text, length); the same seed gives the same motions."""
        for length in lengths:
            self.check_length(int(length))
        features = self.encoder.encode(list(texts))
        lengths_array = np.asarray(lengths, dtype=np.int64)  # (B,)
        neighbours, _ = self.database.query(
            features.sentence.cpu().numpy(), lengths_array, exclude="none"
        )  # (B, k)
        conditions = encode_retrieved(
            self.model,
            self.database,
            neighbours,
            features.tokens,
            features.mask,
            self.max_length,
            self.retrieval_statistics,
        )
        batch, frames = len(texts), int(lengths_array.max())
        mask = torch.arange(frames) < torch.from_numpy(lengths_array)[:, None]  # (B, T)
        mask = mask.to(self.device)

        def model_call(x, t, text_on, retrieval_on, branch_index):
            copies = x.shape[0] // batch
            retrieval_on = retrieval_on & self.use_retrieval
            return self.model(
                x, t, conditions.repeat(copies), text_on, retrieval_on, mask.repeat(copies, 1)
            )

        sampler = build_sampler(self.config["diffusion"], self.diffusion, steps=steps)
        self.mixture.reset(seed)
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(batch, frames, self.model.config.input_feats, generator=generator)
        x0 = sample_loop(
            mixture_denoise_fn(self.mixture, model_call, sampler), noise.to(self.device), sampler
        )  # (B, T, D)
        motions = denormalize(x0.cpu().numpy(), self.mean, self.std)  # (B, T, D)
        results = []
        for row, (text, length) in enumerate(zip(texts, lengths_array, strict=True)):
            motion = motions[row, :length].astype(np.float32)  # (T, D)
            results.append(
                GeneratedMotion(
                    text=text,
                    length=int(length),
                    features=motion,
                    joints=joints_from_features(motion, self.skeleton),
                    retrieved=[str(self.database.captions[i]) for i in neighbours[row]],
                )
            )
        return results


def generator_from_config(cfg: DictConfig) -> MotionGenerator:
    """The generator of an entry point's ckpt, device, database, mixture and use_retrieval keys."""
    mixture = cfg.get("mixture")
    return MotionGenerator(
        to_absolute_path(cfg.ckpt),
        cfg.device,
        database=to_absolute_path(cfg.database) if cfg.get("database") else None,
        mixture=OmegaConf.to_container(mixture, resolve=True) if mixture is not None else None,
        use_retrieval=cfg.get("use_retrieval", True),
    )


def read_prompts(path: str | Path, default_length: int) -> list[tuple[str, int]]:
    """Prompts file: one prompt per line, optionally `text#length`; blank lines are ignored."""
    prompts = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        text, _, length = line.partition("#")
        try:
            prompts.append((text.strip(), int(length) if length.strip() else default_length))
        except ValueError:
            raise ValueError(
                f"{path}:{number}: length after '#' is not an integer: {line!r}"
            ) from None
    if not prompts:
        raise ValueError(f"{path} holds no prompt")
    return prompts
