"""Shapes, masking, condition switches, widths and training behaviour of the transformer."""

import math

import pytest
import torch
from smt_helpers import encode, random_inputs, random_model, run, tiny_config
from torch import nn

from remodiffuse.models import Conditions, ModelConfig, SemanticsModulatedTransformer

GARBAGE = 1.0e4


@pytest.fixture(scope="module")
def model() -> SemanticsModulatedTransformer:
    return random_model(tiny_config())


@torch.no_grad()
def test_shapes(model):
    config = model.config
    inputs = random_inputs(config, batch=3, frames=30, text_length=5)
    conditions = encode(model, inputs)
    strided = math.ceil(30 / config.retrieval.stride)
    tokens = config.retrieval.num_retrieval * strided
    assert conditions.text.shape == (3, 5, config.text_latent_dim)
    assert conditions.text_mask.shape == (3, 5) and conditions.text_mask.all()
    assert conditions.retrieval_motion.shape == (3, tokens, config.retrieval.latent_dim)
    assert conditions.retrieval_text.shape == (3, tokens, config.retrieval.latent_dim)
    assert conditions.retrieval_mask.shape == (3, tokens)
    assert run(model, inputs).shape == (3, 30, config.input_feats)


@torch.no_grad()
def test_shorter_motions_than_max_length(model):
    inputs = random_inputs(model.config, frames=13)
    assert run(model, inputs).shape == inputs.x_t.shape


@pytest.mark.parametrize("stride", [1, 3, 4, 5, 7, 30])
@torch.no_grad()
def test_stride_keeps_frames_0_s_2s(stride):
    model = random_model(tiny_config(stride=stride))
    inputs = random_inputs(model.config, frames=30)
    encoder = model.retrieval_encoder
    strided, mask = encoder.encode_motions(inputs.motions, inputs.lengths)  # (B, R, Ts, C)
    kept = torch.arange(0, 30, stride)
    assert strided.shape[2] == mask.shape[2] == math.ceil(30 / stride) == kept.numel()
    frame_mask = torch.arange(30) < inputs.lengths[..., None]  # (B, R, T)
    full = encoder.encode_motion_frames(inputs.motions.flatten(0, 1), frame_mask.flatten(0, 1))
    full = full.reshape(*strided.shape[:2], 30, -1)
    torch.testing.assert_close(strided, full[:, :, kept])
    assert torch.equal(mask, kept < inputs.lengths[..., None])
    assert run(model, inputs).shape == inputs.x_t.shape


@torch.no_grad()
def test_stride_not_dividing_196():
    config = tiny_config(stride=3)
    model = random_model(
        ModelConfig.from_dict({**config.to_dict(), "max_length": 196, "num_layers": 1})
    )
    inputs = random_inputs(model.config, batch=2, frames=196)
    conditions = encode(model, inputs)
    assert conditions.retrieval_mask.shape == (2, model.config.retrieval.num_retrieval * 66)
    assert run(model, inputs).shape == (2, 196, model.config.input_feats)


@torch.no_grad()
def test_padded_frames_do_not_change_valid_outputs(model):
    inputs = random_inputs(model.config)
    reference = run(model, inputs)
    frames = torch.arange(inputs.x_t.shape[1])
    padded_x = ~inputs.motion_mask[..., None]  # (B, T, 1)
    padded_motion = (frames >= inputs.lengths[..., None])[..., None]  # (B, R, T, 1)
    noisy = inputs.replace(
        x_t=torch.where(padded_x, GARBAGE * torch.randn_like(inputs.x_t), inputs.x_t),
        motions=torch.where(
            padded_motion, GARBAGE * torch.randn_like(inputs.motions), inputs.motions
        ),
    )
    output = run(model, noisy)
    valid = inputs.motion_mask
    torch.testing.assert_close(output[valid], reference[valid], rtol=0, atol=1e-6)


@torch.no_grad()
def test_padded_tokens_do_not_change_outputs():
    model = random_model(tiny_config(text_pooling="masked_mean"))
    inputs = random_inputs(model.config, masked_tokens=True)
    reference = run(model, inputs)
    text_pad = ~inputs.text_mask[..., None]  # (B, L, 1)
    retrieved_pad = ~inputs.retrieved_mask[..., None]  # (B, R, Lr, 1)
    noisy = inputs.replace(
        text_tokens=torch.where(text_pad, GARBAGE, inputs.text_tokens),
        retrieved_tokens=torch.where(retrieved_pad, GARBAGE, inputs.retrieved_tokens),
    )
    valid = inputs.motion_mask
    torch.testing.assert_close(run(model, noisy)[valid], reference[valid], rtol=0, atol=1e-5)


@torch.no_grad()
def test_masked_mean_ignores_extra_padding():
    model = random_model(tiny_config(text_pooling="masked_mean"))
    inputs = random_inputs(model.config, masked_tokens=True)
    longer = inputs.replace(
        retrieved_tokens=nn.functional.pad(inputs.retrieved_tokens, (0, 0, 0, 3)),
        retrieved_mask=nn.functional.pad(inputs.retrieved_mask, (0, 3)),
    )
    short = model.retrieval_encoder.encode_texts(inputs.retrieved_tokens, inputs.retrieved_mask)
    long = model.retrieval_encoder.encode_texts(longer.retrieved_tokens, longer.retrieved_mask)
    torch.testing.assert_close(long, short, rtol=0, atol=1e-5)


@torch.no_grad()
def test_last_slot_pooling_picks_the_last_position(model):
    inputs = random_inputs(model.config)
    encoder = model.retrieval_encoder
    sequence = encoder.encode_text_tokens(inputs.retrieved_tokens.flatten(0, 1), None)
    pooled = encoder.encode_texts(inputs.retrieved_tokens, None)
    torch.testing.assert_close(pooled.flatten(0, 1), sequence[:, -1])


@torch.no_grad()
def test_text_off_ignores_text_tokens(model):
    inputs = random_inputs(model.config)
    other = inputs.replace(text_tokens=torch.randn_like(inputs.text_tokens))
    for retrieval_on in (True, False):
        off = run(model, inputs, text_on=False, retrieval_on=retrieval_on)
        torch.testing.assert_close(run(model, other, False, retrieval_on), off, rtol=0, atol=0)
        assert not torch.allclose(run(model, other, True, retrieval_on), off, atol=1e-3)


@torch.no_grad()
def test_retrieval_off_ignores_retrieved_samples(model):
    inputs = random_inputs(model.config)
    other = inputs.replace(
        motions=torch.randn_like(inputs.motions),
        lengths=torch.randint_like(inputs.lengths, 1, 31),
        retrieved_tokens=torch.randn_like(inputs.retrieved_tokens),
    )
    for text_on in (True, False):
        off = run(model, inputs, text_on=text_on, retrieval_on=False)
        torch.testing.assert_close(run(model, other, text_on, False), off, rtol=0, atol=0)
        assert not torch.allclose(run(model, other, text_on, True), off, atol=1e-3)


@torch.no_grad()
def test_switches_are_per_sample(model):
    inputs = random_inputs(model.config, batch=4)
    text_on = torch.tensor([True, False, True, False])
    retrieval_on = torch.tensor([True, True, False, False])
    mixed = run(model, inputs, text_on, retrieval_on)
    for row in range(4):
        alone = run(model, inputs, bool(text_on[row]), bool(retrieval_on[row]))
        torch.testing.assert_close(mixed[row], alone[row], rtol=0, atol=1e-6)


@torch.no_grad()
def test_forward_branches_is_branch_major(model):
    inputs = random_inputs(model.config)
    conditions = encode(model, inputs)
    branches = [(True, True), (True, False), (False, True), (False, False)]
    batched = model.forward_branches(
        inputs.x_t, inputs.timesteps, conditions, branches, inputs.motion_mask
    )
    assert batched.shape == (4, *inputs.x_t.shape)
    for index, (text_on, retrieval_on) in enumerate(branches):
        torch.testing.assert_close(batched[index], run(model, inputs, text_on, retrieval_on))


@torch.no_grad()
def test_conditions_select_and_repeat(model):
    conditions = encode(model, random_inputs(model.config, batch=3))
    repeated = conditions.repeat(2)
    selected = conditions.select(torch.tensor([0, 1, 2, 0, 1, 2]))
    assert repeated.batch_size == 6
    for name in ("text", "text_mask", "retrieval_motion", "retrieval_text", "retrieval_mask"):
        assert torch.equal(getattr(repeated, name), getattr(selected, name))
    reordered = conditions.select(torch.tensor([2, 0]))
    assert torch.equal(reordered.text, conditions.text[[2, 0]])


@torch.no_grad()
def test_conditions_are_encoded_once_and_reused(model):
    inputs = random_inputs(model.config)
    conditions = encode(model, inputs)
    on = torch.ones(inputs.x_t.shape[0], dtype=torch.bool)
    first = model(inputs.x_t, inputs.timesteps, conditions, on, on, inputs.motion_mask)
    later = model(inputs.x_t, inputs.timesteps, conditions, on, on, inputs.motion_mask)
    assert torch.equal(first, later)
    assert isinstance(conditions, Conditions)


def test_retrieved_text_projection_is_identity_when_widths_match():
    matching = SemanticsModulatedTransformer(tiny_config(text_token_dim=16))
    assert isinstance(matching.retrieval_encoder.text_proj, nn.Identity)
    assert not any(n.startswith("retrieval_encoder.text_proj") for n in matching.state_dict())
    wider = SemanticsModulatedTransformer(tiny_config(text_token_dim=384))
    projection = wider.retrieval_encoder.text_proj
    assert isinstance(projection, nn.Linear)
    assert (projection.in_features, projection.out_features) == (384, 16)


@torch.no_grad()
def test_minilm_like_token_widths():
    base = tiny_config(text_token_dim=384, text_pooling="masked_mean", latent_dim=16)
    config = ModelConfig.from_dict({**base.to_dict(), "text_token_dim": 384})
    model = random_model(config)
    inputs = random_inputs(config, text_length=9, masked_tokens=True)
    assert inputs.text_tokens.shape[-1] == inputs.retrieved_tokens.shape[-1] == 384
    output = run(model, inputs)
    assert output.shape == inputs.x_t.shape and torch.isfinite(output).all()


@torch.no_grad()
def test_half_precision_token_features_are_cast(model):
    inputs = random_inputs(model.config)
    half = inputs.replace(retrieved_tokens=inputs.retrieved_tokens.half())
    assert run(model, half).dtype == torch.float32


def test_gradients_reach_every_parameter_in_training():
    config = ModelConfig.from_dict({**tiny_config().to_dict(), "dropout": 0.1})
    model = random_model(config).train()
    inputs = random_inputs(config, masked_tokens=True)
    output = run(model, inputs)
    loss = (output.square().mean(-1) * inputs.motion_mask).sum() / inputs.motion_mask.sum()
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_training_uses_dropout():
    config = ModelConfig.from_dict({**tiny_config().to_dict(), "dropout": 0.5})
    model = random_model(config).train()
    inputs = random_inputs(config)
    assert not torch.equal(run(model, inputs), run(model, inputs))


def test_official_zero_initialisation():
    model = SemanticsModulatedTransformer(tiny_config())
    zero = [
        model.output_proj,
        *(layer.attention.value_retrieval for layer in model.layers),
        *(layer.attention.stylization.out_proj for layer in model.layers),
        *(layer.ffn.stylization.out_proj for layer in model.layers),
        *(layer.ffn.linear2 for layer in model.layers),
        *(layer.ffn.linear2 for layer in model.retrieval_encoder.motion_layers),
    ]
    for module in zero:
        assert not module.weight.any() and not module.bias.any()


def test_input_errors(model):
    inputs = random_inputs(model.config, batch=2)
    conditions = encode(model, inputs)
    on = torch.ones(2, dtype=torch.bool)
    with pytest.raises(ValueError, match="conditions hold 2 samples"):
        model(inputs.x_t.repeat(2, 1, 1), inputs.timesteps.repeat(2), conditions, on, on, None)
    with pytest.raises(ValueError, match="motion_mask must be a bool"):
        model(inputs.x_t, inputs.timesteps, conditions, on, on, inputs.motion_mask.float())
    with pytest.raises(ValueError, match="text_on must be a bool"):
        model(inputs.x_t, inputs.timesteps, conditions, on[:1], on, inputs.motion_mask)
    with pytest.raises(ValueError, match="max_length"):
        too_long = torch.zeros(2, model.config.max_length + 1, model.config.input_feats)
        model(too_long, inputs.timesteps, conditions, on, on, inputs.motion_mask)
    with pytest.raises(ValueError, match="retrieved_text_tokens must be"):
        model.encode_conditions(
            inputs.text_tokens,
            None,
            inputs.motions,
            inputs.lengths,
            inputs.retrieved_tokens[..., :3],
            None,
        )
    with pytest.raises(ValueError, match="text_tokens must be"):
        model.encode_conditions(
            inputs.text_tokens[..., :3],
            None,
            inputs.motions,
            inputs.lengths,
            inputs.retrieved_tokens,
            None,
        )
