"""The evaluation protocol end to end: a tiny diffusion run scored by a tiny evaluator."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig
from rich.progress import Progress

from remodiffuse.configs import config_dir
from remodiffuse.data import TextMotionDataset
from remodiffuse.data.synthetic import ensure_synthetic_dataset
from remodiffuse.errors import InputError
from remodiffuse.evaluate import run_evaluation
from remodiffuse.evaluation import (
    METRIC_COLUMNS,
    REAL_ROW,
    EvaluationItems,
    EvaluationSettings,
    check_inputs,
    evaluate,
    padded,
)
from remodiffuse.evaluation.protocol import _Generation, skeleton_of
from remodiffuse.evaluators import EvaluatorFileError
from remodiffuse.pipeline import MotionGenerator

# the synthetic test split has ~6 items at 40 motions: small batches, few pairs, no drop_last
TINY_PROTOCOL = (
    "replications=2",
    "steps=3",
    "batch_size=4",
    "rprecision_batch_size=2",
    "drop_last=false",
    "diversity_pairs=4",
    "mm_num_samples=2",
    "mm_num_repeats=3",
    "mm_num_picks=2",
    "balanced_bins=4",
)


@pytest.fixture
def compose_evaluate(tiny_trained_run, tiny_evaluator_run, tmp_path):
    """Compose conf/evaluate.yaml for the tiny run and evaluator, plus overrides."""
    run_dir, _ = tiny_trained_run

    def compose_with(*overrides: str) -> DictConfig:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
            return compose(
                "evaluate",
                overrides=[
                    f"ckpt={run_dir}",
                    f"evaluator.ckpt={tiny_evaluator_run}",
                    f"paths.data_dir={run_dir.parent / 'data'}",
                    "dataset.synthetic.num_motions=40",
                    f"out_dir={tmp_path / 'out'}",
                    *TINY_PROTOCOL,
                    *overrides,
                ],
            )

    yield compose_with
    GlobalHydra.instance().clear()


def test_protocol_writes_reproducible_metrics(
    compose_evaluate, tmp_path, tiny_evaluator_run
) -> None:
    json_path, md_path = run_evaluation(compose_evaluate(), show_progress=False)
    result = json.loads(json_path.read_text())
    assert result["evaluator"] == f"contrastive:{tiny_evaluator_run}"
    assert result["replications"] == 2 and result["settings"]["steps"] == 3
    assert result["settings"]["diversity_pairs_used"] <= 4
    assert result["settings"]["smoothing"] == 0
    smoothed, _ = run_evaluation(
        compose_evaluate("smoothing=1", f"out_dir={tmp_path / 'smoothed'}"), show_progress=False
    )
    smooth = json.loads(smoothed.read_text())
    assert smooth["settings"]["smoothing"] == 1
    assert smooth["rows"]["run"]["fid"] != result["rows"]["run"]["fid"]
    assert smooth["rows"][REAL_ROW] == result["rows"][REAL_ROW]
    real, model = result["rows"][REAL_ROW], result["rows"]["run"]
    assert "multimodality" not in real and set(model) == set(METRIC_COLUMNS)
    for metrics in (real, model):
        for name, summary in metrics.items():
            values = np.array(summary["values"])
            assert values.shape == (2,) and np.isfinite(values).all(), name
            assert summary["mean"] == pytest.approx(values.mean())
            assert summary["conf95"] == pytest.approx(1.96 * values.std() / np.sqrt(2))
    for top in ("r_precision_top1", "r_precision_top2", "r_precision_top3"):
        assert 0 <= model[top]["mean"] <= 1
    assert real["fid"]["mean"] > 0  # a second draw of the test motions, not the same ones
    # real motions keep their bones (README: synthetic worst case 1.6e-5); generated ones not
    assert real["bone_length_cv"]["mean"] < 0.01 < model["bone_length_cv"]["mean"]
    assert real["bone_length_range_cm"]["mean"] < 0.1 < model["bone_length_range_cm"]["mean"]
    lines = md_path.read_text().splitlines()
    assert tiny_evaluator_run.name in lines[0] and lines[0].startswith("Evaluator:")
    assert any(line.startswith(f"| {REAL_ROW} |") for line in lines)
    assert any(line.startswith("| run |") and " ± " in line for line in lines)
    assert "| bone-length CV % | worst bone range cm |" in md_path.read_text()

    again, _ = run_evaluation(
        compose_evaluate(f"out_dir={tmp_path / 'again'}"), show_progress=False
    )
    assert again.read_text() == json_path.read_text()


def test_quick_mode_skips_mm_and_scales_diversity_down(compose_evaluate, caplog) -> None:
    overrides = ("mm_num_samples=0", "replications=1", "diversity_pairs=300")
    with caplog.at_level("WARNING"):
        json_path, _ = run_evaluation(compose_evaluate(*overrides), show_progress=False)
    result = json.loads(json_path.read_text())
    count = result["settings"]["num_test_items"]
    assert result["settings"]["diversity_pairs_used"] == count < 300
    assert "diversity pairs: 300 requested" in caplog.text
    assert "multimodality" not in result["rows"]["run"]
    assert result["rows"]["run"]["fid"]["conf95"] == 0.0


def test_too_few_items_for_one_batch_is_an_error(compose_evaluate) -> None:
    with pytest.raises(ValueError, match="fewer than one R-precision batch of 32"):
        run_evaluation(
            compose_evaluate("drop_last=true", "rprecision_batch_size=32"), show_progress=False
        )


def test_missing_evaluator_files_raise_the_loader_error(compose_evaluate, tmp_path) -> None:
    with pytest.raises(EvaluatorFileError):
        run_evaluation(compose_evaluate(f"evaluator.ckpt={tmp_path}"), show_progress=False)


class _WrongWidthEvaluator:
    name = "stub"
    feature_dim = 251


def test_feature_dimension_mismatch_is_an_error(tiny_trained_run) -> None:
    generator = MotionGenerator(tiny_trained_run[0])
    test = EvaluationItems(
        motions=[np.zeros((40, 263), np.float32)] * 4,
        lengths=np.full(4, 40),
        captions=["a person walks"] * 4,
        tokens=[[]] * 4,
        motion_ids=["m"] * 4,
        mean=generator.mean,
        std=generator.std,
    )
    with pytest.raises(ValueError, match="feature dimension"):
        check_inputs(generator, _WrongWidthEvaluator(), test, EvaluationSettings())


def test_the_skeleton_follows_the_feature_width() -> None:
    assert skeleton_of(263).name == "humanml3d" and skeleton_of(251).name == "kit"
    with pytest.raises(InputError, match="no skeleton has 3 motion features"):
        skeleton_of(3)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="mm_num_picks"):
        EvaluationSettings(mm_num_repeats=3, mm_num_picks=5)
    with pytest.raises(ValueError, match="replications"):
        EvaluationSettings(replications=0)


class _MotionStatisticsEvaluator:
    """Embeds a motion as its per-channel mean and spread over frames; a caption as the
    embedding of the reference motion it describes (so real pairs match), shifted off it
    (the unclamped reference distance is NaN at exactly 0)."""

    name = "motion-statistics"
    feature_dim = 263

    def __init__(self, test: EvaluationItems) -> None:
        embeddings = self.embed_motions(padded(test.motions), test.lengths, test.mean, test.std)
        self.by_caption = {}
        for index in range(len(test)):
            for caption in test.source.records[index].captions:
                self.by_caption.setdefault(caption.text, embeddings[index] + 0.01)

    def embed_texts(self, captions, tokens):
        return np.stack([self.by_caption[caption] for caption in captions])

    def embed_motions(self, motions, lengths, mean, std):
        motions = np.asarray(motions)[..., :24]  # (B, T, 24)
        rows = [motion[:length] for motion, length in zip(motions, lengths, strict=True)]
        return np.stack([np.concatenate([r.mean(0), r.std(0)]) for r in rows]).astype(np.float32)


class _OracleGenerator:
    """'Generates' each prompt's ground-truth test motion as the evaluation loader draws it
    (or, with shuffle, a random item's), in place of the run's model."""

    def __init__(self, generator: MotionGenerator, test: EvaluationItems, shuffle: bool) -> None:
        self.mean, self.std = test.mean, test.std  # so `features` are the real ones
        self.run_dir = generator.run_dir
        self.encoder, self.database = generator.encoder, generator.database
        self.use_retrieval, self.precision, self.neighbours = True, "fp32", "retrieved"
        self.smoothing = 0.0
        self.test, self.shuffle = test, shuffle
        self.index_of = {caption: i for i, caption in enumerate(test.captions)}

    def generate(self, texts, lengths, seed=0, steps=None, sampler=None):
        rng = np.random.default_rng(seed)
        results = []
        for text in texts:
            index = int(rng.integers(len(self.test))) if self.shuffle else self.index_of[text]
            motion = self.test.source.evaluation_draw(index, rng)["motion"].numpy()  # (T, D)
            results.append(SimpleNamespace(features=motion * (self.std + 1e-9) + self.mean))
        return results


@pytest.fixture(scope="module")
def oracle_test(tmp_path_factory) -> EvaluationItems:
    """The test split of a 400-motion synthetic set."""
    root = ensure_synthetic_dataset(tmp_path_factory.mktemp("oracle") / "synthetic", 400, seed=3)
    return EvaluationItems.from_dataset(TextMotionDataset(root, "test"), None)


def _oracle_rows(tiny_trained_run, oracle_test, shuffle: bool) -> dict:
    evaluator = _MotionStatisticsEvaluator(oracle_test)
    generator = _OracleGenerator(MotionGenerator(tiny_trained_run[0]), oracle_test, shuffle)
    settings = EvaluationSettings(replications=5, mm_num_samples=0, diversity_pairs=20)
    result = evaluate(generator, evaluator, oracle_test, settings, "synthetic", "oracle", False)
    return result["rows"][REAL_ROW], result["rows"][tiny_trained_run[0].name]


def test_an_oracle_generator_scores_as_the_real_row(tiny_trained_run, oracle_test) -> None:
    real, oracle = _oracle_rows(tiny_trained_run, oracle_test, shuffle=False)
    assert real["fid"]["mean"] > 1e-4  # a second pass, not the reference compared with itself
    for name in ("fid", "r_precision_top1", "r_precision_top3", "mm_dist", "diversity"):
        spread = real[name]["conf95"] + oracle[name]["conf95"]
        gap = abs(real[name]["mean"] - oracle[name]["mean"])
        assert gap <= spread + 0.1 * abs(real[name]["mean"]), (name, real[name], oracle[name])
    assert real["r_precision_top3"]["mean"] > 0.5
    for name in ("bone_length_cv", "bone_length_range_cm"):  # the same motions, drawn again
        assert oracle[name]["mean"] == pytest.approx(real[name]["mean"], rel=0.5, abs=1e-4)


def test_shuffled_motions_score_near_chance(tiny_trained_run, oracle_test) -> None:
    real, shuffled = _oracle_rows(tiny_trained_run, oracle_test, shuffle=True)
    chance_top3 = 3 / 32
    assert shuffled["r_precision_top3"]["mean"] < 2 * chance_top3 < real["r_precision_top3"]["mean"]


class _LabelGenerator:
    """'Generates' caption i as a motion whose every value is i; records each call's lengths."""

    mean, std = np.zeros(3), np.ones(3)

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def generate(self, texts, lengths, seed=0, steps=None, sampler=None):
        self.calls.append(list(lengths))
        return [
            SimpleNamespace(features=np.full((length, 3), float(text)))
            for text, length in zip(texts, lengths, strict=True)
        ]


@pytest.mark.parametrize("bucket", [True, False])
def test_generation_buckets_by_length_and_keeps_the_callers_order(bucket) -> None:
    lengths = np.random.default_rng(0).integers(40, 197, size=50)  # (Q,)
    generator = _LabelGenerator()
    settings = EvaluationSettings(batch_size=8, bucket_by_length=bucket)
    with Progress(disable=True) as progress:
        motions = _Generation(generator, settings, progress)(
            [str(i) for i in range(50)], lengths, np.random.default_rng(1), "test"
        )
    for i, motion in enumerate(motions):
        assert motion.shape == (lengths[i], 3) and np.all(motion == i)
    generated = np.concatenate(generator.calls)
    padded_frames = sum(max(call) * len(call) for call in generator.calls)
    if bucket:
        assert np.array_equal(generated, np.sort(lengths))
        assert padded_frames < 1.15 * lengths.sum()
    else:
        assert np.array_equal(generated, lengths)
        assert padded_frames > 1.2 * lengths.sum()
