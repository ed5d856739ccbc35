"""Linear attention from per-group token sums equals plain linear attention over the tokens."""

import pytest
import torch
from smt_helpers import encode, random_inputs, random_model, tiny_config

from remodiffuse.models.attention import linear_attention
from remodiffuse.models.masking import masked_keys, masked_values
from remodiffuse.models.token_sums import attention_from_sums, token_sums

HEADS = 4


def test_groups_combine_to_attention_over_their_valid_tokens():
    g = torch.Generator().manual_seed(0)
    batch, copies, width = 3, 2, 16
    sizes = (5, 7, 9)  # prompt, retrieval, motion tokens
    keys = [torch.randn(batch, n, width, generator=g) * 3 for n in sizes]
    values = [torch.randn(batch, n, width, generator=g) for n in sizes]
    valid = [torch.rand(batch, n, generator=g) > 0.3 for n in sizes]
    for mask in valid:
        mask[:, 0] = True
    reads = [torch.tensor([True, False, True, True, True, False]), torch.ones(6, dtype=bool)]
    reads = [reads[0], torch.tensor([False, True, True, True, False, False]), reads[1]]
    query = torch.randn(copies * batch, 11, width, generator=g)

    rows = lambda t: torch.cat([t] * copies)  # noqa: E731 -- branch-major copies
    switched = [rows(m) & r[:, None] for m, r in zip(valid, reads, strict=True)]
    plain = linear_attention(
        query,
        torch.cat([masked_keys(rows(k), m) for k, m in zip(keys, switched, strict=True)], 1),
        torch.cat([masked_values(rows(v), m) for v, m in zip(values, switched, strict=True)], 1),
        HEADS,
    )
    groups = [
        (token_sums(k, v, m, HEADS), r)
        for k, v, m, r in zip(keys, values, valid, reads, strict=True)
    ]
    torch.testing.assert_close(
        attention_from_sums(query, groups, HEADS), plain, atol=1e-6, rtol=1e-5
    )


@pytest.mark.parametrize("copies", [1, 4])
def test_model_from_sums_equals_the_plain_forward(copies):
    config = tiny_config()
    model = random_model(config)
    inputs = random_inputs(config, batch=3, masked_tokens=True)
    conditions = encode(model, inputs)
    rows = 3 * copies
    g = torch.Generator().manual_seed(2)
    text_on, retrieval_on = torch.rand(rows, generator=g) > 0.5, torch.rand(rows, generator=g) > 0.5
    x_t = torch.randn(rows, config.max_length, config.input_feats, generator=g)
    timesteps = torch.full((rows,), 480)
    motion_mask = inputs.motion_mask.repeat(copies, 1)
    with torch.no_grad():
        plain = model(x_t, timesteps, conditions.repeat(copies), text_on, retrieval_on, motion_mask)
        fast = model.forward_from_sums(
            x_t, timesteps, model.condition_sums(conditions), text_on, retrieval_on, motion_mask
        )
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)
