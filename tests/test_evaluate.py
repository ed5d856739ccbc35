"""The evaluation protocol end to end: a tiny diffusion run scored by a tiny evaluator."""

import json

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from remodiffuse.configs import config_dir
from remodiffuse.evaluation import (
    METRIC_COLUMNS,
    REAL_ROW,
    EvaluationItems,
    EvaluationSettings,
    check_inputs,
    run_evaluation,
)
from remodiffuse.evaluators import EvaluatorFileError
from remodiffuse.generation import MotionGenerator

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
    assert real["fid"]["mean"] == pytest.approx(0, abs=1e-3)
    lines = md_path.read_text().splitlines()
    assert tiny_evaluator_run.name in lines[0] and lines[0].startswith("Evaluator:")
    assert any(line.startswith(f"| {REAL_ROW} |") for line in lines)
    assert any(line.startswith("| run |") and " ± " in line for line in lines)

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
        mean=generator.mean,
        std=generator.std,
    )
    with pytest.raises(ValueError, match="feature dimension"):
        check_inputs(generator, _WrongWidthEvaluator(), test, EvaluationSettings())


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="mm_num_picks"):
        EvaluationSettings(mm_num_repeats=3, mm_num_picks=5)
    with pytest.raises(ValueError, match="replications"):
        EvaluationSettings(replications=0)
