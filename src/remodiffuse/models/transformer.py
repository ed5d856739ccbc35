"""The Semantics-Modulated Transformer (paper Sec. 3.3): (x_t, t, conditions) -> x0."""

from collections.abc import Sequence

import torch
from torch import nn

from remodiffuse.models.attention import SemanticsModulatedAttention
from remodiffuse.models.conditions import Conditions
from remodiffuse.models.config import ModelConfig
from remodiffuse.models.feedforward import StylizedFeedForward
from remodiffuse.models.retrieval_encoder import RetrievalEncoder
from remodiffuse.models.timestep import TimestepEmbedding
from remodiffuse.models.token_sums import TokenSums
from remodiffuse.models.token_transformer import PromptTextEncoder

LayerSums = tuple[TokenSums, TokenSums]  # one decoder layer's prompt and retrieval token sums


class DecoderLayer(nn.Module):
    """SMA block then a stylized FFN (there is no separate self-attention)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.attention = SemanticsModulatedAttention(
            latent_dim=config.latent_dim,
            text_latent_dim=config.text_latent_dim,
            retrieval_latent_dim=config.retrieval.latent_dim,
            num_heads=config.num_heads,
            time_embed_dim=config.time_embed_dim,
            dropout=config.dropout,
        )
        self.ffn = StylizedFeedForward(
            config.latent_dim, config.ff_size, config.time_embed_dim, config.dropout
        )

    def forward(
        self, x: torch.Tensor, emb: torch.Tensor, conditions: Conditions, motion_mask: torch.Tensor
    ) -> torch.Tensor:
        """x (B, T, C), emb (B, TE), switched conditions, motion_mask (B, T) -> (B, T, C)."""
        return self.ffn(self.attention(x, emb, conditions, motion_mask), emb)  # (B, T, C)

    def forward_from_sums(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        sums: tuple[TokenSums, TokenSums],
        text_on: torch.Tensor,
        retrieval_on: torch.Tensor,
        motion_mask: torch.Tensor,
    ) -> torch.Tensor:
        """`forward` from the layer's condition sums (batch B, rows n*B branch-major)."""
        h = self.attention.forward_from_sums(x, emb, sums, text_on, retrieval_on, motion_mask)
        return self.ffn(h, emb)  # (n*B, T, C)


class SemanticsModulatedTransformer(nn.Module):
    """Predicts x0 from x_t, the raw timestep t and conditions encoded once by `encode_conditions`.

    Several condition branches of the same samples run as one batch: repeat the conditions
    branch-major (`Conditions.repeat`) and set the per-sample switches `text_on`/`retrieval_on`.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        width = config.latent_dim
        self.input_proj = nn.Linear(config.input_feats, width)
        self.position_embedding = nn.Parameter(torch.randn(config.max_length, width))
        self.time_embedding = TimestepEmbedding(width, config.time_embed_dim)
        self.text_encoder = PromptTextEncoder(
            token_dim=config.text_token_dim,
            latent_dim=config.text_latent_dim,
            num_layers=config.text_num_layers,
            num_heads=config.text_num_heads,
            ff_size=config.text_ff_size,
            dropout=config.dropout,
        )
        self.retrieval_encoder = RetrievalEncoder(
            config.retrieval, config.input_feats, config.max_length
        )
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_layers))
        self.output_proj = nn.Linear(width, config.input_feats)
        nn.init.zeros_(self.output_proj.weight)
        nn.init.zeros_(self.output_proj.bias)

    def encode_conditions(
        self,
        text_tokens: torch.Tensor,
        text_mask: torch.Tensor | None,
        retrieved_motions: torch.Tensor,
        retrieved_lengths: torch.Tensor,
        retrieved_text_tokens: torch.Tensor,
        retrieved_text_mask: torch.Tensor | None,
    ) -> Conditions:
        """Encode prompts and retrieved samples once; inputs are moved to the model's device.

        text_tokens (B, L, Dt), text_mask (B, L) bool or None (all valid); retrieved_motions
        (B, R, T, D) zero-padded, retrieved_lengths (B, R); retrieved_text_tokens (B, R, Lr, Dr),
        retrieved_text_mask (B, R, Lr) bool or None. Masks hide padded tokens as keys.
        """
        weight = self.input_proj.weight
        device, dtype = weight.device, weight.dtype
        text_tokens = text_tokens.to(device, dtype)  # (B, L, Dt)
        self._check_conditions(text_tokens, retrieved_motions, retrieved_text_tokens)
        if text_mask is not None:
            text_mask = _as_mask("text_mask", text_mask, text_tokens.shape[:2]).to(device)
        if retrieved_text_mask is not None:
            retrieved_text_mask = _as_mask(
                "retrieved_text_mask", retrieved_text_mask, retrieved_text_tokens.shape[:3]
            ).to(device)
        xf = self.text_encoder(text_tokens, text_mask)  # (B, L, Ct)
        motion, motion_mask = self.retrieval_encoder.encode_motions(
            retrieved_motions.to(device, dtype), retrieved_lengths.to(device)
        )  # (B, R, Ts, Cr), (B, R, Ts)
        text = self.retrieval_encoder.encode_texts(
            retrieved_text_tokens.to(device, dtype), retrieved_text_mask
        )  # (B, R, Cr)
        batch, count, strided, width = motion.shape
        if text_mask is None:
            text_mask = torch.ones(xf.shape[:2], dtype=torch.bool, device=device)  # (B, L)
        return Conditions(
            text=xf,
            text_mask=text_mask,
            retrieval_motion=motion.reshape(batch, count * strided, width),  # (B, R*Ts, Cr)
            retrieval_text=text[:, :, None]
            .expand(batch, count, strided, width)
            .reshape(batch, count * strided, width),  # (B, R*Ts, Cr)
            retrieval_mask=motion_mask.reshape(batch, count * strided),  # (B, R*Ts)
        )

    def embed_motion(self, x_t: torch.Tensor) -> torch.Tensor:
        """Decoder input: input_proj(x_t) + positions: (B, T, D) -> (B, T, C)."""
        return self.input_proj(x_t) + self.position_embedding[: x_t.shape[1]]  # (B, T, C)

    def forward(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor,
        conditions: Conditions,
        text_on: torch.Tensor,
        retrieval_on: torch.Tensor,
        motion_mask: torch.Tensor,
    ) -> torch.Tensor:
        """x_t (B, T, D), raw timesteps (B,) in 0..999, conditions of batch B, switches (B,)
        bool, motion_mask (B, T) bool (True = valid frame) -> x0 (B, T, D).
        """
        self._check_forward(x_t, timesteps, conditions, text_on, retrieval_on, motion_mask)
        emb = self.time_embedding(timesteps)  # (B, TE)
        switched = conditions.switched(text_on, retrieval_on)
        h = self.embed_motion(x_t)  # (B, T, C)
        for layer in self.layers:
            h = layer(h, emb, switched, motion_mask)  # (B, T, C)
        return self.output_proj(h)  # (B, T, D)

    def condition_sums(self, conditions: Conditions) -> list[LayerSums]:
        """Every decoder layer's prompt and retrieval keys and values, reduced once per prompt
        batch (they do not change between sampler steps); see `forward_from_sums`."""
        return [layer.attention.condition_sums(conditions) for layer in self.layers]

    def forward_from_sums(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor,
        sums: Sequence[LayerSums],
        text_on: torch.Tensor,
        retrieval_on: torch.Tensor,
        motion_mask: torch.Tensor,
    ) -> torch.Tensor:
        """`forward` from `condition_sums(conditions)` of batch B: x_t (n*B, T, D) holding n
        branches branch-major, timesteps and switches (n*B,), motion_mask (n*B, T) -> x0
        (n*B, T, D). The same outputs as `forward` on the conditions repeated n times; a
        switched-off group costs nothing."""
        emb = self.time_embedding(timesteps)  # (n*B, TE)
        h = self.embed_motion(x_t)  # (n*B, T, C)
        for layer, layer_sums in zip(self.layers, sums, strict=True):
            h = layer.forward_from_sums(h, emb, layer_sums, text_on, retrieval_on, motion_mask)
        return self.output_proj(h)  # (n*B, T, D)

    def forward_branches(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor,
        conditions: Conditions,
        branches: Sequence[tuple[bool, bool]],
        motion_mask: torch.Tensor,
    ) -> torch.Tensor:
        """x0 of every (text_on, retrieval_on) branch in one batched pass: (n, B, T, D)."""
        count, batch = len(branches), x_t.shape[0]
        switches = torch.tensor(branches, dtype=torch.bool, device=x_t.device)  # (n, 2)
        switches = switches.repeat_interleave(batch, dim=0)  # (n*B, 2)
        x0 = self(
            x_t.repeat(count, 1, 1),  # (n*B, T, D)
            timesteps.repeat(count),  # (n*B,)
            conditions.repeat(count),
            switches[:, 0],
            switches[:, 1],
            motion_mask.repeat(count, 1),  # (n*B, T)
        )  # (n*B, T, D)
        return x0.view(count, batch, *x0.shape[1:])  # (n, B, T, D)

    def _check_conditions(
        self, text_tokens: torch.Tensor, motions: torch.Tensor, retrieved_tokens: torch.Tensor
    ) -> None:
        config = self.config
        retrieval = config.retrieval
        batch = text_tokens.shape[0]
        if text_tokens.ndim != 3 or text_tokens.shape[-1] != config.text_token_dim:
            raise ValueError(
                f"text_tokens must be (B, L, {config.text_token_dim}), "
                f"got {tuple(text_tokens.shape)}"
            )
        if (
            motions.ndim != 4
            or motions.shape[0] != batch
            or motions.shape[-1] != config.input_feats
        ):
            raise ValueError(
                f"retrieved_motions must be ({batch}, R, T, {config.input_feats}), "
                f"got {tuple(motions.shape)}"
            )
        if motions.shape[2] > config.max_length:
            raise ValueError(
                f"retrieved motions have {motions.shape[2]} frames, max_length={config.max_length}"
            )
        expected = (batch, motions.shape[1])
        if (
            retrieved_tokens.ndim != 4
            or tuple(retrieved_tokens.shape[:2]) != expected
            or retrieved_tokens.shape[-1] != retrieval.text_token_dim
        ):
            raise ValueError(
                f"retrieved_text_tokens must be ({batch}, {motions.shape[1]}, Lr, "
                f"{retrieval.text_token_dim}), got {tuple(retrieved_tokens.shape)}"
            )

    def _check_forward(
        self,
        x_t: torch.Tensor,
        timesteps: torch.Tensor,
        conditions: Conditions,
        text_on: torch.Tensor,
        retrieval_on: torch.Tensor,
        motion_mask: torch.Tensor,
    ) -> None:
        if x_t.ndim != 3 or x_t.shape[-1] != self.config.input_feats:
            raise ValueError(
                f"x_t must be (B, T, {self.config.input_feats}), got {tuple(x_t.shape)}"
            )
        batch, frames = x_t.shape[:2]
        if frames > self.config.max_length:
            raise ValueError(f"x_t has {frames} frames, max_length={self.config.max_length}")
        if conditions.batch_size != batch:
            raise ValueError(
                f"conditions hold {conditions.batch_size} samples but x_t has {batch}; "
                "use conditions.repeat(n) or conditions.select(index) to match the batch"
            )
        if timesteps.shape != (batch,):
            raise ValueError(f"timesteps must be ({batch},), got {tuple(timesteps.shape)}")
        _as_mask("text_on", text_on, (batch,))
        _as_mask("retrieval_on", retrieval_on, (batch,))
        _as_mask("motion_mask", motion_mask, (batch, frames))


def _as_mask(name: str, mask: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """The mask itself after checking it is a bool tensor of `shape`."""
    if mask.dtype != torch.bool or tuple(mask.shape) != tuple(shape):
        raise ValueError(
            f"{name} must be a bool tensor of shape {tuple(shape)}, "
            f"got {mask.dtype} {tuple(mask.shape)}"
        )
    return mask
