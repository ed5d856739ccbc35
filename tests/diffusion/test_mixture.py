"""ConditionMixture: released coefficients and coins, branch batching, the paper form and files."""

import numpy as np
import pytest
import torch

from remodiffuse.diffusion import (
    BRANCHES,
    MIXTURE_FILENAME,
    ConditionMixture,
    PaperMixture,
    ReleasedMixture,
    build_mixture,
    load_mixture_yaml,
    mixture_for,
    save_mixture_yaml,
)

HUMANML3D_WEIGHTS = [0.52351, -0.28419, 2.39872, -1.63804]
KIT_WEIGHTS = [0.78123, 0.39284, -0.12475, -0.04932]
COARSE = [1.5, -0.5, 0.0, 0.0]
FINE = [0.4, 0.3, 0.2, 0.1]


class RecordingModel:
    """A fake network: branch k returns x * (k + 1) + 10 * text_on + 100 * retrieval_on."""

    def __init__(self) -> None:
        self.calls: list[dict[str, torch.Tensor]] = []

    def __call__(self, x, t, text_on, retrieval_on, branch_index):
        self.calls.append(dict(x=x, t=t, text=text_on, retr=retrieval_on, branch=branch_index))
        scale = (branch_index + 1).to(x.dtype)[:, None, None]
        offset = 10.0 * text_on.to(x.dtype) + 100.0 * retrieval_on.to(x.dtype)
        return x * scale + offset[:, None, None]


def expected_mix(x_t: torch.Tensor, coefs: np.ndarray) -> torch.Tensor:
    out = torch.zeros_like(x_t)
    for k, (text, retr) in enumerate([(1, 1), (1, 0), (0, 1), (0, 0)]):
        out = out + float(coefs[k]) * (x_t * (k + 1) + 10 * text + 100 * retr)
    return out


def test_released_reproduces_official_coefficients(official_outputs, official_inputs):
    mixture = ConditionMixture.released("humanml3d", coins=official_inputs["ddim_coin"])
    timesteps = official_outputs["ddim_timesteps_original"].tolist()
    coefs = np.stack([mixture.coefficients(t, j, 50) for j, t in enumerate(timesteps)])
    assert coefs.dtype == np.float64
    np.testing.assert_array_equal(coefs, official_outputs["ddim_coefs"])
    assert mixture.drawn == official_outputs["ddim_coin"].tolist()


def test_released_fixed_weights_of_forward(official_outputs):
    mixture = ConditionMixture.released("synthetic", seed=5)
    coefs = mixture.coefficients(int(official_outputs["fwd_mix_timestep"]), 0, 1)
    np.testing.assert_array_equal(coefs, official_outputs["fwd_mix_coefs"])
    assert mixture.drawn == [int(official_outputs["fwd_coin"])]


def test_denoise_reproduces_official_mixed_x0(official_outputs):
    branch_x0 = torch.from_numpy(official_outputs["fwd_branch_x0"])  # (4, B, T, D)
    codes = official_outputs["branch_cond_types"]
    seen = []

    def model_call(x, t, text_on, retrieval_on, branch_index):
        seen.append((text_on.tolist(), retrieval_on.tolist(), branch_index.tolist(), t.tolist()))
        return branch_x0.reshape(-1, *branch_x0.shape[2:])

    x_t = torch.zeros(branch_x0.shape[1:])
    t = int(official_outputs["fwd_mix_timestep"])
    mixed = ConditionMixture.released("humanml3d").denoise(model_call, x_t, t, 0, 1)
    torch.testing.assert_close(mixed, torch.from_numpy(official_outputs["fwd_mixed_x0"]))
    text_on, retrieval_on, branch, steps = seen[0]
    batch = x_t.shape[0]
    assert text_on == [bool(c % 10) for c in codes for _ in range(batch)]
    assert retrieval_on == [bool(c // 10) for c in codes for _ in range(batch)]
    assert branch == [k for k in range(4) for _ in range(batch)] and steps == [t] * 4 * batch


def test_guided_step_evaluates_two_branches():
    x_t = torch.randn(3, 6, 4)
    model = RecordingModel()
    mixture = ConditionMixture.released("humanml3d", coins=[0, 1])
    for coin, t in [(0, 999), (1, 400)]:
        out = mixture.denoise(model, x_t, t, 0, 50)
        w = 1 + 6.5 * t / 1000
        coefs = [w, 0, 1 - w, 0] if coin == 0 else [0, w, 0, 1 - w]
        torch.testing.assert_close(out, expected_mix(x_t, np.array(coefs)))
    assert [call["x"].shape[0] for call in model.calls] == [6, 6]
    assert model.calls[0]["branch"].tolist() == [0, 0, 0, 2, 2, 2]
    assert model.calls[1]["branch"].tolist() == [1, 1, 1, 3, 3, 3]
    assert model.calls[1]["text"].tolist() == [True] * 3 + [False] * 3
    assert model.calls[1]["retr"].tolist() == [False] * 6
    assert model.calls[0]["t"].dtype == torch.long and model.calls[0]["t"].tolist() == [999] * 6


def test_fixed_step_evaluates_four_branches():
    x_t = torch.randn(2, 5, 3)
    model = RecordingModel()
    out = ConditionMixture.released("kit").denoise(model, x_t, 100, 49, 50)
    torch.testing.assert_close(out, expected_mix(x_t, np.array(KIT_WEIGHTS)))
    assert len(model.calls) == 1 and model.calls[0]["x"].shape == (8, 5, 3)


def test_released_presets_and_scale():
    kit = ConditionMixture.released("kit")
    assert kit.coarse_scale == 4.0 and kit.weights.tolist() == KIT_WEIGHTS
    human = ConditionMixture.released("synthetic")
    assert human.coarse_scale == 6.5 and human.weights.tolist() == HUMANML3D_WEIGHTS
    assert kit.guidance_scale(500) == pytest.approx(1 + 4.0 * 0.5)


def test_seeded_coins_are_reproducible():
    timesteps = list(range(999, 100, -20))
    first = ConditionMixture.released(seed=7)
    second = ConditionMixture.released(seed=7)
    coefs_first = [first.coefficients(t, 0, 1) for t in timesteps]
    coefs_second = [second.coefficients(t, 0, 1) for t in timesteps]
    np.testing.assert_array_equal(coefs_first, coefs_second)
    assert first.drawn == second.drawn and set(first.drawn) == {0, 1}
    drawn = list(first.drawn)
    first.reset()
    [first.coefficients(t, 0, 1) for t in timesteps]
    assert first.drawn == drawn
    first.reset(seed=8)
    [first.coefficients(t, 0, 1) for t in timesteps]
    assert first.drawn != drawn
    replay = ConditionMixture.released(coins=drawn)
    np.testing.assert_array_equal([replay.coefficients(t, 0, 1) for t in timesteps], coefs_first)


def test_replayed_coins_are_checked():
    with pytest.raises(ValueError, match="must be one of"):
        ConditionMixture.released(coins=[-1]).coefficients(500, 0, 1)
    with pytest.raises(ValueError, match="must be one of"):
        ConditionMixture.released(coins=[1]).coefficients(50, 0, 1)
    with pytest.raises(ValueError, match="exhausted"):
        ConditionMixture.released(coins=[]).coefficients(500, 0, 1)


def test_paper_switches_at_fraction():
    mixture = ConditionMixture.paper(COARSE, FINE)
    assert mixture.switch_step(50) == 40 and mixture.switch_step(20) == 16
    for steps, switch in [(50, 40), (20, 16)]:
        for j in range(steps):
            expected = COARSE if j < switch else FINE
            assert mixture.coefficients(999, j, steps).tolist() == expected
    with pytest.raises(ValueError, match="step_index"):
        mixture.coefficients(0, 50, 50)


def test_paper_skips_zero_weight_branches():
    x_t = torch.randn(2, 4, 3)
    model = RecordingModel()
    mixture = ConditionMixture.paper(COARSE, FINE)
    out = mixture.denoise(model, x_t, 700, 0, 50)
    torch.testing.assert_close(out, expected_mix(x_t, np.array(COARSE)))
    assert model.calls[-1]["branch"].tolist() == [0, 0, 1, 1]
    mixture.denoise(model, x_t, 10, 45, 50)
    assert model.calls[-1]["x"].shape[0] == 8


def test_paper_weights_must_sum_to_one():
    with pytest.raises(ValueError, match="coarse weights .* must sum to 1"):
        PaperMixture([1.0, 1.0, 0.0, 0.0], FINE)
    with pytest.raises(ValueError, match="4 finite numbers"):
        PaperMixture(COARSE, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="switch_fraction"):
        PaperMixture(COARSE, FINE, switch_fraction=0.0)


def test_mixture_yaml_round_trip(tmp_path):
    mixture = PaperMixture([0.1, 0.2, 0.3, 0.4], [1 / 3, 1 / 3, 1 / 6, 1 / 6], switch_fraction=0.7)
    path = save_mixture_yaml(tmp_path / "run" / MIXTURE_FILENAME, mixture)
    loaded = load_mixture_yaml(path)
    assert loaded.coarse.tolist() == mixture.coarse.tolist()
    assert loaded.fine.tolist() == mixture.fine.tolist()
    assert loaded.switch_fraction == 0.7
    assert "branches:" in path.read_text() and list(BRANCHES) == ["both", "text", "retr", "none"]


def test_bad_mixture_files(tmp_path):
    path = tmp_path / MIXTURE_FILENAME
    path.write_text("coarse: [1, 0, 0, 0]\n")
    with pytest.raises(ValueError, match="'coarse' and 'fine'"):
        load_mixture_yaml(path)
    path.write_text("coarse: [1, 1, 0, 0]\nfine: [1, 0, 0, 0]\n")
    with pytest.raises(ValueError, match=f"{MIXTURE_FILENAME}: coarse weights"):
        load_mixture_yaml(path)


def test_mixture_for_prefers_config_then_checkpoint_file(tmp_path):
    assert isinstance(mixture_for("synthetic", tmp_path), ReleasedMixture)
    assert mixture_for("kit").coarse_scale == 4.0
    save_mixture_yaml(tmp_path / MIXTURE_FILENAME, PaperMixture(COARSE, FINE))
    from_file = mixture_for("synthetic", tmp_path)
    assert isinstance(from_file, PaperMixture) and from_file.coarse.tolist() == COARSE
    explicit = mixture_for("synthetic", tmp_path, cfg={"form": "released"})
    assert isinstance(explicit, ReleasedMixture)


def test_mixture_configs_compose(compose_train, tmp_path):
    cfg = compose_train("+mixture=released", "dataset=kit")
    released = build_mixture(cfg.mixture, cfg.dataset.name)
    assert isinstance(released, ReleasedMixture) and released.weights.tolist() == KIT_WEIGHTS
    cfg = compose_train("+mixture=paper", f"mixture.coarse={COARSE}", f"mixture.fine={FINE}")
    paper = build_mixture(cfg.mixture, cfg.dataset.name)
    assert isinstance(paper, PaperMixture) and paper.switch_step(50) == 40
    path = save_mixture_yaml(tmp_path / MIXTURE_FILENAME, paper)
    cfg = compose_train("+mixture=paper", f"mixture.file={path}")
    assert build_mixture(cfg.mixture, "synthetic").fine.tolist() == FINE
    cfg = compose_train("+mixture=paper")
    with pytest.raises(ValueError, match="mixture.file"):
        build_mixture(cfg.mixture, "synthetic")


def test_denoise_keeps_device():
    x_t = torch.empty(2, 5, 3, device="meta")
    out = ConditionMixture.released().denoise(RecordingModel(), x_t, 50, 0, 1)
    assert out.device.type == "meta" and out.shape == x_t.shape
