"""The released cost model samples what the library samples, at its released cost."""

import numpy as np
import torch
from released_sampler import released_denoise_fn
from smt_helpers import encode, random_inputs, random_model, tiny_config

from remodiffuse.diffusion import (
    ConditionMixture,
    DDIMSampler,
    GaussianDiffusion,
    ReleasedMixture,
    mixture_denoise_fn,
    sample_loop,
)
from remodiffuse.motion.masks import length_mask
from remodiffuse.pipeline import PromptBatch

LENGTH = 12  # < max_length 30: the evaluation case, padded by the released path


def _setup():
    config = tiny_config()
    model = random_model(config)
    inputs = random_inputs(config, batch=3)
    sampler = DDIMSampler(GaussianDiffusion(), "3,3")
    return config, model, inputs, sampler


@torch.inference_mode()
def test_padded_four_branch_sampling_equals_the_library():
    config, model, inputs, sampler = _setup()
    conditions = encode(model, inputs)
    noise = torch.randn(3, config.max_length, config.input_feats, generator=torch.Generator())
    lengths = torch.full((3,), LENGTH)

    library_mixture = ConditionMixture.released("humanml3d", seed=5)
    prompts = PromptBatch(
        model,
        conditions,
        neighbours=np.zeros((3, 0), dtype=np.int64),
        mask=length_mask(lengths, LENGTH),
    )
    library = sample_loop(
        mixture_denoise_fn(library_mixture, prompts.model_call, sampler),
        noise[:, :LENGTH],
        sampler,
    )  # (3, LENGTH, D)

    preset = ConditionMixture.released("humanml3d")
    replayed = ReleasedMixture(preset.coarse_scale, preset.weights, coins=library_mixture.drawn)
    mask = length_mask(lengths, config.max_length)  # (3, max_length)
    released = sample_loop(
        released_denoise_fn(model, conditions, mask, replayed, sampler), noise, sampler
    )  # (3, max_length, D)

    assert replayed.drawn == library_mixture.drawn and any(c >= 0 for c in replayed.drawn)
    torch.testing.assert_close(released[:, :LENGTH], library, atol=1e-5, rtol=1e-5)


@torch.inference_mode()
def test_every_step_runs_all_four_branches_once_at_the_padded_length():
    config, model, inputs, sampler = _setup()
    conditions = encode(model, inputs)
    calls = []
    model.register_forward_hook(lambda module, args, output: calls.append(tuple(args[0].shape)))
    mixture = ConditionMixture.released("humanml3d", seed=0)
    mask = length_mask(torch.full((3,), LENGTH), config.max_length)
    noise = torch.randn(3, config.max_length, config.input_feats)
    sample_loop(released_denoise_fn(model, conditions, mask, mixture, sampler), noise, sampler)
    assert calls == [(4 * 3, config.max_length, config.input_feats)] * sampler.num_steps
