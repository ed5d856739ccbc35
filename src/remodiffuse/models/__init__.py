"""The Semantics-Modulated Transformer of ReMoDiffuse and the converter of released weights."""

from remodiffuse.models.conditions import Conditions
from remodiffuse.models.config import TEXT_POOLINGS, ModelConfig, RetrievalEncoderConfig
from remodiffuse.models.convert import (
    convert_official_state_dict,
    load_official_checkpoint,
    official_model_config,
)
from remodiffuse.models.timestep import timestep_sinusoid
from remodiffuse.models.transformer import SemanticsModulatedTransformer

__all__ = [
    "TEXT_POOLINGS",
    "Conditions",
    "ModelConfig",
    "RetrievalEncoderConfig",
    "SemanticsModulatedTransformer",
    "convert_official_state_dict",
    "load_official_checkpoint",
    "official_model_config",
    "timestep_sinusoid",
]
