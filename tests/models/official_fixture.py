"""The official-ReMoDiffuse numerics fixture: config, converted model, arrays and retrieval."""

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from remodiffuse.models import (
    ModelConfig,
    RetrievalEncoderConfig,
    SemanticsModulatedTransformer,
    convert_official_state_dict,
)
from remodiffuse.retrieval import RetrievalConfig, RetrievalDatabase


def model_config(config: dict[str, Any], retrieval_token_dim: int) -> ModelConfig:
    """Our ModelConfig from the fixture's config.json `model` section."""
    arch, retr = config["model"]["architecture"], config["model"]["retrieval"]
    return ModelConfig(
        input_feats=arch["input_feats"],
        max_length=arch["max_seq_len"],
        latent_dim=arch["latent_dim"],
        time_embed_dim=arch["time_embed_dim"],
        ff_size=arch["ff_size"],
        num_layers=arch["num_layers"],
        num_heads=arch["num_heads"],
        dropout=arch["dropout"],
        text_token_dim=arch["clip_width"],
        text_latent_dim=arch["text_latent_dim"],
        text_num_layers=arch["text_num_layers"],
        text_num_heads=arch["text_num_heads"],
        text_ff_size=arch["text_ff_size"],
        retrieval=RetrievalEncoderConfig(
            num_retrieval=retr["num_retrieval"],
            stride=retr["stride"],
            latent_dim=retr["latent_dim"],
            num_heads=retr["num_heads"],
            motion_num_layers=retr["motion_num_layers"],
            motion_ff_size=retr["motion_ff_size"],
            text_num_layers=retr["text_num_layers"],
            text_ff_size=retr["text_ff_size"],
            text_token_dim=retrieval_token_dim,
            text_pooling="last_slot",
        ),
    )


@dataclass
class OfficialFixture:
    """Lazily loaded fixture files and the converted model (eval mode, CPU, float32).

    `directory` is ../shared/fixtures/official-remodiffuse, from the `require_fixture` fixture.
    """

    directory: Path

    @cached_property
    def config(self) -> dict[str, Any]:
        return json.loads((self.directory / "config.json").read_text())

    @cached_property
    def database(self) -> dict[str, np.ndarray]:
        return _arrays(self.directory / "database.npz")

    @cached_property
    def inputs(self) -> dict[str, np.ndarray]:
        return _arrays(self.directory / "inputs.npz")

    @cached_property
    def outputs(self) -> dict[str, np.ndarray]:
        return _arrays(self.directory / "outputs.npz")

    @cached_property
    def state_dict(self) -> dict[str, np.ndarray]:
        return _arrays(self.directory / "state_dict.npz")

    @cached_property
    def model_config(self) -> ModelConfig:
        return model_config(self.config, self.database["clip_seq_features"].shape[-1])

    @cached_property
    def model(self) -> SemanticsModulatedTransformer:
        model = SemanticsModulatedTransformer(self.model_config)
        model.load_state_dict(convert_official_state_dict(self.state_dict, self.model_config))
        return model.eval()

    @property
    def motion_mask(self) -> torch.Tensor:
        """(B, T) bool, True on valid frames."""
        return torch.from_numpy(self.inputs["motion_mask"]) > 0

    def retrieval_database(self) -> RetrievalDatabase:
        """The fixture database in `RetrievalDatabase` form (Eq. 4 with the fixture's lambda)."""
        database = self.database
        retrieval = self.config["model"]["retrieval"]
        count = database["m_lengths"].shape[0]
        return RetrievalDatabase.build(
            ids=[f"entry-{i}" for i in range(count)],
            captions=[str(c) for c in database["captions"]],
            sentence_features=database["text_features"],
            lengths=database["m_lengths"],
            encoder_identity="official fixture",
            config=RetrievalConfig(
                num_retrieval=retrieval["num_retrieval"], lam=retrieval["kinematic_coef"]
            ),
        )

    def retrieved(self, indices: np.ndarray) -> tuple[torch.Tensor, ...]:
        """Motions (B, R, T, D), lengths (B, R) and caption tokens (B, R, L, Dr) of entries."""
        database = self.database
        return (
            torch.from_numpy(database["motions"][indices]),
            torch.from_numpy(database["m_lengths"][indices]),
            torch.from_numpy(database["clip_seq_features"][indices]),
        )

    def conditions(self, indices: np.ndarray):
        """Encoded conditions for the fixture prompts and the retrieved `indices` (B, R)."""
        motions, lengths, tokens = self.retrieved(indices)
        clip_feat = torch.from_numpy(self.inputs["clip_feat"])
        with torch.no_grad():
            return self.model.encode_conditions(clip_feat, None, motions, lengths, tokens, None)


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def max_error(actual: torch.Tensor | np.ndarray, expected: np.ndarray, valid=None) -> float:
    """Largest |actual - expected| over the entries selected by the boolean `valid`."""
    diff = np.abs(np.asarray(actual, dtype=np.float64) - expected.astype(np.float64))
    return float(diff[valid].max() if valid is not None else diff.max())
