"""Tiny Semantics-Modulated Transformers with random weights and random condition inputs."""

import dataclasses
from dataclasses import dataclass

import torch

from remodiffuse.models import ModelConfig, RetrievalEncoderConfig, SemanticsModulatedTransformer


def tiny_config(**retrieval: object) -> ModelConfig:
    """A few-thousand-parameter model; keyword arguments override retrieval settings."""
    return ModelConfig(
        input_feats=7,
        max_length=30,
        latent_dim=16,
        time_embed_dim=24,
        ff_size=32,
        num_layers=2,
        num_heads=4,
        text_token_dim=12,
        text_latent_dim=8,
        text_num_layers=1,
        text_num_heads=2,
        text_ff_size=16,
        retrieval=RetrievalEncoderConfig(
            **{
                "num_retrieval": 2,
                "stride": 4,
                "latent_dim": 16,
                "num_heads": 4,
                "motion_num_layers": 1,
                "motion_ff_size": 32,
                "text_num_layers": 1,
                "text_ff_size": 32,
                "text_token_dim": 16,
                **retrieval,
            }
        ),
    )


def random_model(config: ModelConfig, seed: int = 0) -> SemanticsModulatedTransformer:
    """Eval-mode model whose parameters (the zero-initialised ones too) are all random."""
    torch.manual_seed(seed)
    model = SemanticsModulatedTransformer(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn_like(parameter)
            if parameter.ndim > 1:
                parameter.copy_(noise * parameter.shape[-1] ** -0.5)
            elif name.endswith("bias"):
                parameter.copy_(noise * 0.1)
            else:  # LayerNorm gains
                parameter.copy_(1 + noise * 0.1)
    return model.eval()


@dataclass
class Inputs:
    """Arguments of encode_conditions and forward for one random batch."""

    text_tokens: torch.Tensor  # (B, L, Dt)
    text_mask: torch.Tensor | None  # (B, L)
    motions: torch.Tensor  # (B, R, T, D)
    lengths: torch.Tensor  # (B, R)
    retrieved_tokens: torch.Tensor  # (B, R, Lr, Dr)
    retrieved_mask: torch.Tensor | None  # (B, R, Lr)
    x_t: torch.Tensor  # (B, T, D)
    timesteps: torch.Tensor  # (B,)
    motion_mask: torch.Tensor  # (B, T)

    def replace(self, **changes: object) -> "Inputs":
        return dataclasses.replace(self, **changes)


def random_inputs(
    config: ModelConfig,
    batch: int = 3,
    frames: int | None = None,
    text_length: int = 5,
    masked_tokens: bool = False,
    seed: int = 1,
) -> Inputs:
    """Random inputs; motions are zero after their lengths, like the database's."""
    generator = torch.Generator().manual_seed(seed)
    frames = frames or config.max_length
    count = config.retrieval.num_retrieval
    lengths = torch.randint(1, frames + 1, (batch, count), generator=generator)
    motions = torch.randn(batch, count, frames, config.input_feats, generator=generator)
    motions = motions * (torch.arange(frames) < lengths[..., None])[..., None]
    target = torch.randint(1, frames + 1, (batch,), generator=generator)
    text_mask = retrieved_mask = None
    if masked_tokens:
        text_mask = torch.arange(text_length) < torch.randint(
            1, text_length + 1, (batch, 1), generator=generator
        )
        retrieved_mask = torch.arange(text_length) < torch.randint(
            1, text_length + 1, (batch, count, 1), generator=generator
        )
    return Inputs(
        text_tokens=torch.randn(batch, text_length, config.text_token_dim, generator=generator),
        text_mask=text_mask,
        motions=motions,
        lengths=lengths,
        retrieved_tokens=torch.randn(
            batch, count, text_length, config.retrieval.text_token_dim, generator=generator
        ),
        retrieved_mask=retrieved_mask,
        x_t=torch.randn(batch, frames, config.input_feats, generator=generator),
        timesteps=torch.randint(0, 1000, (batch,), generator=generator),
        motion_mask=torch.arange(frames) < target[:, None],
    )


def encode(model: SemanticsModulatedTransformer, inputs: Inputs):
    """model.encode_conditions on the inputs."""
    return model.encode_conditions(
        inputs.text_tokens,
        inputs.text_mask,
        inputs.motions,
        inputs.lengths,
        inputs.retrieved_tokens,
        inputs.retrieved_mask,
    )


def run(
    model: SemanticsModulatedTransformer,
    inputs: Inputs,
    text_on: bool | torch.Tensor = True,
    retrieval_on: bool | torch.Tensor = True,
) -> torch.Tensor:
    """x0 (B, T, D) with the given switches (a bool applies to every sample)."""
    batch = inputs.x_t.shape[0]
    switches = [
        value if isinstance(value, torch.Tensor) else torch.full((batch,), value)
        for value in (text_on, retrieval_on)
    ]
    conditions = encode(model, inputs)
    return model(inputs.x_t, inputs.timesteps, conditions, *switches, inputs.motion_mask)
