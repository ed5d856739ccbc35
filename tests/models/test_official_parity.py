"""Parity with the released ReMoDiffuse implementation (fixtures/official-remodiffuse).

Every size comes from config.json and every shape from the arrays, so any fixture of this format
can be substituted. Padded frames are compared nowhere: only valid frames carry meaning.
"""

import numpy as np
import pytest
import torch
from official_fixture import OfficialFixture, max_error

from remodiffuse.diffusion import (
    BRANCHES,
    RETRIEVAL_ON,
    TEXT_ON,
    DDIMSampler,
    GaussianDiffusion,
    ReleasedMixture,
    mixture_denoise_fn,
    sample_loop,
)
from remodiffuse.models import official_model_config, timestep_sinusoid

# The errors depend on the CPU: torch's float32 exp gives an AVX-512 Xeon other timestep
# frequencies than the fixture machine (the trig is exact for the float32 arguments, to 3e-8),
# which moves the sinusoid of t = 500 by 1.4e-5. Worst measured, forward: 8.6e-6 on the earlier
# machines, 1.5e-5 on the Xeon (fwd_mixed_x0, fwd_time_sinusoid; either kernel path); 50-step
# DDIM: within 4.5e-5 on the earlier machines, 8.1e-5 on the Xeon (ddim_x0_probe). Pinned at
# twice the worst: a wrong weight, branch or mask moves these outputs by O(1) (fixture README).
FORWARD_ATOL = 2 * 1.5e-5
DDIM_ATOL = 2 * 8.1e-5
SUM_ATOL = 0.05
SQUARES_RTOL = 1e-4


@pytest.fixture(scope="module")
def fixture(require_fixture) -> OfficialFixture:
    config = require_fixture("fixtures", "official-remodiffuse", "config.json")
    return OfficialFixture(config.parent)


def assert_close(name: str, actual, expected: np.ndarray, atol: float) -> None:
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, f"{name}: {actual.shape} vs {expected.shape}"
    error = max_error(actual, expected)
    assert error <= atol, f"{name}: max abs error {error:.3g} > {atol}"


def branch_switches(codes: np.ndarray) -> list[tuple[bool, bool]]:
    """(text_on, retrieval_on) of the official condition codes: text = code % 10, retr = // 10."""
    return [(bool(code % 10 > 0), bool(code // 10 > 0)) for code in codes.tolist()]


def released_mixture(fixture: OfficialFixture, coins: np.ndarray) -> ReleasedMixture:
    mix = fixture.config["condition_mixture"]
    return ReleasedMixture(
        coarse_scale=mix["coarse_scale"],
        weights=[mix[f"{branch}_coef"] for branch in BRANCHES],
        threshold=mix["fine_threshold"],
        num_timesteps=fixture.config["diffusion"]["num_timesteps"],
        coins=coins.reshape(-1).tolist(),
    )


def mixture_positions(switches: list[tuple[bool, bool]]) -> list[int]:
    """Position in the mixture's BRANCHES of each fixture branch."""
    order = list(zip(TEXT_ON, RETRIEVAL_ON, strict=True))
    return [order.index(switch) for switch in switches]


def test_config_is_inferred_from_the_official_weights(fixture):
    arch, retr = fixture.config["model"]["architecture"], fixture.config["model"]["retrieval"]
    inferred = official_model_config(
        fixture.state_dict,
        num_heads=arch["num_heads"],
        text_num_heads=arch["text_num_heads"],
        retrieval_num_heads=retr["num_heads"],
        num_retrieval=retr["num_retrieval"],
        stride=retr["stride"],
    )
    assert inferred == fixture.model_config


@pytest.mark.parametrize("mode,exclude", [("test", "none"), ("train", "length")])
def test_retrieval_indices(fixture, mode, exclude):
    database = fixture.retrieval_database()
    expected = fixture.outputs[f"retr_indices_{mode}"]
    found, scores = database.query(
        fixture.inputs["query_text_features"],
        fixture.inputs["lengths"],
        k=expected.shape[1],
        exclude=exclude,
    )
    np.testing.assert_array_equal(found, expected)
    table = fixture.outputs["retr_score_table"]  # (B, 3, N): cosine, length factor, product
    np.testing.assert_allclose(scores, np.take_along_axis(table[:, 2], expected, 1), atol=1e-5)


def test_prompt_text_encoder(fixture):
    model, outputs = fixture.model, fixture.outputs
    clip_feat = torch.from_numpy(fixture.inputs["clip_feat"])
    with torch.no_grad():
        projected = model.text_encoder.input_proj(clip_feat)  # (B, L, Ct)
        encoded = model.text_encoder.transformer(projected, None)  # (B, L, Ct)
        xf = model.text_encoder(clip_feat, None)  # (B, L, Ct)
    assert_close("fwd_text_proj", projected, outputs["fwd_text_proj"], FORWARD_ATOL)
    assert_close("fwd_text_enc", encoded, outputs["fwd_text_enc"], FORWARD_ATOL)
    assert_close("fwd_xf_out", xf, outputs["fwd_xf_out"], FORWARD_ATOL)
    conditions = fixture.conditions(outputs["retr_indices_test"])
    assert_close("conditions.text", conditions.text, outputs["fwd_xf_out"], FORWARD_ATOL)


def test_timestep_embedding(fixture):
    model, outputs = fixture.model, fixture.outputs
    timesteps = torch.from_numpy(fixture.inputs["fwd_timesteps"])
    sinusoid = timestep_sinusoid(timesteps, fixture.model_config.latent_dim)
    with torch.no_grad():
        emb = model.time_embedding(timesteps)
    assert_close("fwd_time_sinusoid", sinusoid, outputs["fwd_time_sinusoid"], FORWARD_ATOL)
    assert_close("fwd_time_emb", emb, outputs["fwd_time_emb"], FORWARD_ATOL)


def test_retrieval_encoder(fixture):
    encoder, outputs = fixture.model.retrieval_encoder, fixture.outputs
    motions, lengths, tokens = fixture.retrieved(outputs["retr_indices_test"])
    batch, count, frames = motions.shape[:3]
    raw_mask = outputs["fwd_retr_raw_mask"] > 0  # (B, R, T)
    with torch.no_grad():
        flat_mask = torch.from_numpy(raw_mask).reshape(batch * count, frames)  # (B*R, T)
        full = encoder.encode_motion_frames(motions.flatten(0, 1), flat_mask)  # (B*R, T, Cr)
        strided, mask = encoder.encode_motions(motions, lengths)  # (B, R, Ts, Cr), (B, R, Ts)
        sequence = encoder.encode_text_tokens(tokens.flatten(0, 1), None)  # (B*R, L, Cr)
        pooled = encoder.encode_texts(tokens, None)  # (B, R, Cr)
    expected_mask = outputs["fwd_re_mask"] > 0
    np.testing.assert_array_equal(mask.numpy(), expected_mask)
    prestride = full.reshape(batch, count, frames, -1).numpy()
    assert prestride.shape == outputs["fwd_re_motion_prestride"].shape
    assert_close(
        "fwd_re_motion_prestride",
        prestride[raw_mask],
        outputs["fwd_re_motion_prestride"][raw_mask],
        FORWARD_ATOL,
    )
    assert strided.shape == outputs["fwd_re_motion"].shape
    assert_close(
        "fwd_re_motion",
        strided.numpy()[expected_mask],
        outputs["fwd_re_motion"][expected_mask],
        FORWARD_ATOL,
    )
    sequence = sequence.reshape(outputs["fwd_re_text_seq"].shape)
    assert_close("fwd_re_text_seq", sequence, outputs["fwd_re_text_seq"], FORWARD_ATOL)
    assert_close("fwd_re_text", pooled[:, :, None], outputs["fwd_re_text"], FORWARD_ATOL)


def test_forward_branches_intermediates_and_mixture(fixture):
    model, inputs, outputs = fixture.model, fixture.inputs, fixture.outputs
    mask = fixture.motion_mask  # (B, T)
    valid = mask.numpy()
    conditions = fixture.conditions(outputs["retr_indices_test"])
    x_t = torch.from_numpy(inputs["fwd_x_t"])
    timesteps = torch.from_numpy(inputs["fwd_timesteps"])
    switches = branch_switches(outputs["branch_cond_types"])
    captured: dict[str, list[torch.Tensor]] = {"sma0": [], "layers": []}
    hooks = [
        model.layers[0].attention.register_forward_hook(
            lambda _m, _i, out: captured["sma0"].append(out)
        ),
        *(
            layer.register_forward_hook(lambda _m, _i, out: captured["layers"].append(out))
            for layer in model.layers
        ),
    ]
    try:
        with torch.no_grad():
            decoder_input = model.embed_motion(x_t)  # (B, T, C)
            branches = model.forward_branches(x_t, timesteps, conditions, switches, mask)
    finally:
        for hook in hooks:
            hook.remove()
    assert_close(
        "fwd_dec_in", decoder_input.numpy()[valid], outputs["fwd_dec_in"][valid], FORWARD_ATOL
    )

    count, batch = len(switches), x_t.shape[0]
    crop = outputs["fwd_dec_sma0"].shape[2]
    crop_valid = valid[:, :crop]  # (B, Lc)
    sma0 = captured["sma0"][0].reshape(count, batch, -1, model.config.latent_dim)
    assert_close(
        "fwd_dec_sma0",
        sma0[:, :, :crop].numpy()[:, crop_valid],
        outputs["fwd_dec_sma0"][:, crop_valid],
        FORWARD_ATOL,
    )
    layers = torch.stack(captured["layers"]).reshape(
        len(model.layers), count, batch, -1, sma0.shape[-1]
    )
    assert layers.shape[:3] == outputs["fwd_dec_out"].shape[:3]
    assert_close(
        "fwd_dec_out",
        layers[:, :, :, :crop].numpy()[:, :, crop_valid],
        outputs["fwd_dec_out"][:, :, crop_valid],
        FORWARD_ATOL,
    )
    assert branches.shape == outputs["fwd_branch_x0"].shape
    assert_close(
        "fwd_branch_x0",
        branches.numpy()[:, valid],
        outputs["fwd_branch_x0"][:, valid],
        FORWARD_ATOL,
    )

    t_mix = int(inputs["fwd_timesteps"][0])  # the released mixture uses the first sample's t
    assert t_mix == int(outputs["fwd_mix_timestep"])
    mixture = released_mixture(fixture, inputs["fwd_coin"])
    coefficients = mixture.coefficients(t_mix, 0, 1)[mixture_positions(switches)]
    assert mixture.drawn == [int(inputs["fwd_coin"])]
    np.testing.assert_allclose(coefficients, outputs["fwd_mix_coefs"], rtol=0, atol=1e-12)
    mixed = sum(branch * float(c) for branch, c in zip(branches, coefficients, strict=True))
    assert_close("fwd_mixed_x0", mixed.numpy()[valid], outputs["fwd_mixed_x0"][valid], FORWARD_ATOL)


def test_ddim_sampling(fixture):
    model, inputs, outputs, config = fixture.model, fixture.inputs, fixture.outputs, fixture.config
    schedule = config["diffusion"]
    diffusion = GaussianDiffusion(
        num_timesteps=schedule["num_timesteps"],
        beta_start=schedule["beta_start"],
        beta_end=schedule["beta_end"],
        beta_schedule=schedule["beta_schedule"],
    )
    sampler = DDIMSampler(diffusion, schedule["respace"], eta=schedule["ddim_eta"])
    np.testing.assert_array_equal(sampler.timesteps, outputs["ddim_timesteps_original"])
    np.testing.assert_allclose(sampler.alphas_cumprod, outputs["ddim_alphas_cumprod"], rtol=1e-12)
    np.testing.assert_allclose(
        sampler.alphas_cumprod_prev, outputs["ddim_alphas_cumprod_prev"], rtol=1e-12
    )
    mask = fixture.motion_mask  # (B, T)
    conditions = fixture.conditions(outputs["retr_indices_test"])
    batch = mask.shape[0]

    def model_call(x, t, text_on, retrieval_on, branch_index):
        copies = x.shape[0] // batch
        return model(x, t, conditions.repeat(copies), text_on, retrieval_on, mask.repeat(copies, 1))

    steps: list[tuple[torch.Tensor, torch.Tensor]] = []
    mixture = released_mixture(fixture, inputs["ddim_coin"])
    with torch.no_grad():
        sample = sample_loop(
            mixture_denoise_fn(mixture, model_call, sampler),
            torch.from_numpy(inputs["ddim_noise"]),
            sampler,
            callback=lambda _j, _t, x_t, x0: steps.append((x_t, x0)),
        )
    assert mixture.drawn == inputs["ddim_coin"].tolist()
    replay = released_mixture(fixture, inputs["ddim_coin"])
    coefficients = [
        replay.coefficients(int(t), j, sampler.num_steps) for j, t in enumerate(sampler.timesteps)
    ]
    np.testing.assert_allclose(np.stack(coefficients), outputs["ddim_coefs"], rtol=0, atol=1e-12)

    valid = mask.numpy()
    x_after = torch.stack([x for x, _ in steps[1:]] + [sample]).numpy()  # (S, B, T, D)
    x0_pred = torch.stack([x0 for _, x0 in steps]).numpy()  # (S, B, T, D)
    assert_close("ddim_sample", sample.numpy()[valid], outputs["ddim_sample"][valid], DDIM_ATOL)
    crop = int(outputs["ddim_crop_frames"])
    crop_valid = valid[:, :crop]
    channels = outputs["ddim_probe_channels"]
    for name, trajectory in (("ddim_xt_probe", x_after), ("ddim_x0_probe", x0_pred)):
        probe = trajectory[:, :, :crop][..., channels]
        assert_close(name, probe[:, crop_valid], outputs[name][:, crop_valid], DDIM_ATOL)
    snapshots = x_after[outputs["ddim_xt_steps_index"], :, :crop]
    assert_close(
        "ddim_xt_steps",
        snapshots[:, crop_valid],
        outputs["ddim_xt_steps"][:, crop_valid],
        DDIM_ATOL,
    )
    for name, trajectory in (("ddim_xt_stats", x_after), ("ddim_x0_stats", x0_pred)):
        stats = frame_stats(trajectory, valid)
        expected = outputs[name]
        assert_close(f"{name} sum", stats[..., 0], expected[..., 0], SUM_ATOL)
        np.testing.assert_allclose(stats[..., 1], expected[..., 1], rtol=SQUARES_RTOL, err_msg=name)
        assert_close(f"{name} max abs", stats[..., 2], expected[..., 2], DDIM_ATOL)


def frame_stats(trajectory: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """[sum, sum of squares, max abs] over valid frames and channels: (S, B, T, D) -> (S, B, 3)."""
    values = trajectory.astype(np.float64)
    weights = valid[None, :, :, None]  # (1, B, T, 1)
    return np.stack(
        [
            (values * weights).sum(axis=(2, 3)),
            (values**2 * weights).sum(axis=(2, 3)),
            (np.abs(values) * weights).max(axis=(2, 3)),
        ],
        axis=-1,
    )
