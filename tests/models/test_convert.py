"""Converting released checkpoints and databases, and the inference checkpoint format."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from official_fixture import OfficialFixture
from smt_helpers import random_inputs, random_model, run, tiny_config

from remodiffuse.models import (
    convert_official_state_dict,
    load_official_checkpoint,
    official_model_config,
)
from remodiffuse.models.convert import official_key_to_ours
from remodiffuse.models.official_database import load_official_database
from remodiffuse.pipeline import load_run, save_pretrained
from remodiffuse.retrieval import RetrievalDatabase


@pytest.fixture(scope="module")
def fixture(require_fixture) -> OfficialFixture:
    config = require_fixture("fixtures", "official-remodiffuse", "config.json")
    return OfficialFixture(config.parent)


def test_prefix_is_optional_and_clip_is_ignored(fixture):
    with_prefix = fixture.state_dict
    assert all(key.startswith("model.") for key in with_prefix)
    without = {key.removeprefix("model."): value for key, value in with_prefix.items()}
    with_clip = {**with_prefix, "model.clip.token_embedding.weight": np.zeros((3, 2), np.float32)}
    config = fixture.model_config
    reference = convert_official_state_dict(with_prefix, config)
    for variant in (without, with_clip):
        converted = convert_official_state_dict(variant, config)
        assert converted.keys() == reference.keys()
        assert all(torch.equal(converted[k], reference[k]) for k in reference)


def test_every_official_key_has_its_own_name(fixture):
    names = [official_key_to_ours(key.removeprefix("model.")) for key in fixture.state_dict]
    assert None not in names and len(set(names)) == len(names)
    assert official_key_to_ours("temporal_decoder_blocks.3.ca_block.retr_norm1.weight") == (
        "layers.3.attention.retrieval_key_norm.weight"
    )
    assert official_key_to_ours("textTransEncoder.layers.1.self_attn.in_proj_weight") == (
        "text_encoder.transformer.layers.1.self_attn.in_proj_weight"
    )
    assert official_key_to_ours("database.motion_pos_embedding") == (
        "retrieval_encoder.motion_positions"
    )
    assert official_key_to_ours("temporal_decoder_blocks.0.ca_block.unknown.weight") is None


def test_missing_unexpected_and_misshapen_keys_are_reported(fixture):
    state, config = dict(fixture.state_dict), fixture.model_config
    del state["model.out.weight"]
    state["model.temporal_decoder_blocks.0.ca_block.extra.weight"] = np.zeros(2, np.float32)
    with pytest.raises(ValueError) as error:
        convert_official_state_dict(state, config)
    message = str(error.value)
    assert "'output_proj.weight'" in message
    assert "temporal_decoder_blocks.0.ca_block.extra.weight" in message
    state = dict(fixture.state_dict)
    state["model.out.bias"] = np.zeros(5, np.float32)
    with pytest.raises(ValueError, match=r"output_proj.bias: \(5,\)"):
        convert_official_state_dict(state, config)


def test_more_layers_in_the_config_than_in_the_weights(fixture):
    config = fixture.model_config
    deeper = type(config).from_dict({**config.to_dict(), "num_layers": config.num_layers + 1})
    with pytest.raises(ValueError, match=f"layers.{config.num_layers}.attention"):
        convert_official_state_dict(fixture.state_dict, deeper)


def test_a_linear_retrieved_text_projection_is_missing_from_official_weights(fixture):
    config = fixture.model_config
    values = config.to_dict()
    values["retrieval"]["text_token_dim"] = config.retrieval.latent_dim + 1
    with pytest.raises(ValueError, match="retrieval_encoder.text_proj.weight"):
        convert_official_state_dict(fixture.state_dict, type(config).from_dict(values))


def test_config_inference_needs_a_remodiffuse_state_dict():
    with pytest.raises(ValueError, match="joint_embed.weight"):
        official_model_config({"model.something.weight": np.zeros((2, 2), np.float32)})


def test_pth_checkpoints_load_with_weights_only(fixture, tmp_path):
    weights = {key: torch.from_numpy(value) for key, value in fixture.state_dict.items()}
    path = tmp_path / "released.pth"
    torch.save({"meta": {"epoch": 40, "config": "..."}, "state_dict": weights}, path)
    loaded = load_official_checkpoint(path)
    assert loaded.keys() == weights.keys()
    assert all(torch.equal(loaded[key], weights[key]) for key in weights)
    npz = load_official_checkpoint(fixture.directory / "state_dict.npz")
    assert all(torch.equal(npz[key], weights[key]) for key in weights)


def test_pretrained_round_trip(tmp_path):
    model = random_model(tiny_config(text_token_dim=10))
    save_pretrained(model.state_dict(), model.config, tmp_path, {"note": {"source": "test"}})
    loaded, _, _ = load_run(tmp_path)
    assert loaded.config == model.config and not loaded.training
    inputs = random_inputs(model.config)
    with torch.no_grad():
        torch.testing.assert_close(run(loaded, inputs), run(model, inputs), rtol=0, atol=0)


def test_official_database_shares_duplicate_motions(fixture, tmp_path):
    arrays = dict(fixture.database)
    count = arrays["m_lengths"].shape[0]
    order = np.array([*range(count), 0])  # entry `count` is a second caption of motion 0
    duplicated = {name: arrays[name][order] for name in arrays}
    duplicated["captions"] = np.array([*arrays["captions"], "another caption"])
    path = tmp_path / "t2m_text_train.npz"
    np.savez(path, **duplicated)
    database = load_official_database(path)
    assert len(database) == count + 1
    assert database.ids[count] == database.ids[0] and len(set(database.ids)) == count
    assert database.motions.num_motions == count


def test_official_database_requires_its_arrays(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, text_features=np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="clip_seq_features"):
        load_official_database(path)


@pytest.mark.slow
def test_convert_official_command(fixture, tmp_path):
    arch = fixture.config["model"]["architecture"]
    retrieval = fixture.config["model"]["retrieval"]
    command = [
        sys.executable,
        "-m",
        "remodiffuse.convert_official",
        f"checkpoint={fixture.directory / 'state_dict.npz'}",
        f"database={fixture.directory / 'database.npz'}",
        "out_dir=converted",
        f"official.num_heads={arch['num_heads']}",
        f"official.text_num_heads={arch['text_num_heads']}",
        f"official.retrieval_num_heads={retrieval['num_heads']}",
        f"official.num_retrieval={retrieval['num_retrieval']}",
        f"official.stride={retrieval['stride']}",
        f"official.kinematic_coef={retrieval['kinematic_coef']}",
    ]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, text=True)
    out_dir = tmp_path / "converted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["converted"]

    model, _, _ = load_run(out_dir)
    assert model.config == fixture.model_config
    inputs = random_inputs(model.config, batch=2, text_length=7)
    with torch.no_grad():
        torch.testing.assert_close(run(model, inputs), run(fixture.model, inputs), rtol=0, atol=0)

    database = RetrievalDatabase.load(out_dir / "database")
    for mode, exclude in (("test", "none"), ("train", "length")):
        found, _ = database.query(
            fixture.inputs["query_text_features"], fixture.inputs["lengths"], exclude=exclude
        )
        np.testing.assert_array_equal(found, fixture.outputs[f"retr_indices_{mode}"])
    indices = fixture.outputs["retr_indices_test"]
    motions, lengths = database.motions_of(indices, max_length=fixture.model_config.max_length)
    tokens, mask = database.tokens_of(indices)
    expected_motions, expected_lengths, expected_tokens = fixture.retrieved(indices)
    np.testing.assert_array_equal(motions, expected_motions.numpy())
    np.testing.assert_array_equal(lengths, expected_lengths.numpy())
    np.testing.assert_allclose(tokens, expected_tokens.numpy(), rtol=1e-3, atol=1e-3)  # float16
    assert mask.all()
    with torch.no_grad():
        stored = model.encode_conditions(
            torch.from_numpy(fixture.inputs["clip_feat"]),
            None,
            torch.from_numpy(motions),
            torch.from_numpy(lengths),
            torch.from_numpy(tokens),
            torch.from_numpy(mask),
        )
        original = fixture.conditions(indices)
    torch.testing.assert_close(stored.retrieval_motion, original.retrieval_motion)
    torch.testing.assert_close(stored.retrieval_text, original.retrieval_text, atol=1e-2, rtol=0)
