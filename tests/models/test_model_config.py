"""ModelConfig (dict round trip, validation) and the conf/model groups it is built from."""

import pytest
from omegaconf import OmegaConf
from torch import nn

from remodiffuse.models import ModelConfig, RetrievalEncoderConfig, SemanticsModulatedTransformer


def composed_config(compose_train, *overrides: str) -> ModelConfig:
    cfg = compose_train(*overrides)
    return ModelConfig.from_dict(OmegaConf.to_container(cfg.model, resolve=True))


def parameter_count(config: ModelConfig) -> int:
    return sum(p.numel() for p in SemanticsModulatedTransformer(config).parameters())


def test_dict_round_trip():
    config = ModelConfig(retrieval=RetrievalEncoderConfig(stride=3, text_pooling="masked_mean"))
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert ModelConfig.from_dict({}) == ModelConfig()


@pytest.mark.parametrize(
    "values,message",
    [
        ({"latent_dmi": 3}, "unknown model config keys"),
        ({"retrieval": {"strides": 3}}, "unknown model.retrieval config keys"),
        ({"latent_dim": 100, "num_heads": 8}, "not divisible"),
        ({"num_layers": -1}, "num_layers must be an integer"),
        ({"dropout": 1.5}, "dropout"),
        ({"retrieval": {"stride": 0}}, "retrieval.stride"),
        ({"retrieval": {"text_pooling": "first"}}, "text_pooling"),
    ],
)
def test_invalid_configs(values, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig.from_dict(values)


@pytest.mark.parametrize(
    "experiment,input_feats,millions", [("humanml3d", 263, 46.97), ("kit", 251, 46.95)]
)
def test_paper_presets_build_the_released_size(compose_train, experiment, input_feats, millions):
    config = composed_config(
        compose_train, f"experiment={experiment}", f"model.input_feats={input_feats}"
    )
    assert (config.latent_dim, config.num_layers, config.num_heads) == (512, 4, 8)
    assert (config.ff_size, config.time_embed_dim, config.text_latent_dim) == (1024, 2048, 256)
    assert config.text_token_dim == config.retrieval.text_token_dim == 512
    assert config.retrieval.text_pooling == "last_slot"
    assert round(parameter_count(config) / 1e6, 2) == millions
    model = SemanticsModulatedTransformer(config)
    assert isinstance(model.retrieval_encoder.text_proj, nn.Identity)


def test_small_default_follows_the_text_encoder(compose_train):
    config = composed_config(compose_train, "model.input_feats=263")
    assert config.latent_dim == 128 and config.text_token_dim == 384
    assert config.retrieval.text_token_dim == 384 and config.retrieval.latent_dim == 128
    assert config.retrieval.text_pooling == "masked_mean"
    assert config.retrieval.num_retrieval == 2
    assert parameter_count(config) < 3_000_000
    model = SemanticsModulatedTransformer(config)
    assert isinstance(model.retrieval_encoder.text_proj, nn.Linear)
