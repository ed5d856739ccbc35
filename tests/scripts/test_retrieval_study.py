"""scripts/retrieval_study.py at a tiny size: 2 seeds of 2 steps, every row, resumed for free."""

import json
import runpy
import statistics
from pathlib import Path

import pytest
import yaml

from remodiffuse.pipeline import MotionGenerator

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "retrieval_study.py"
PROTOCOL = ("batch_size=4", "rprecision_batch_size=2", "drop_last=false", "diversity_pairs=4",
            "balanced_bins=4")  # fmt: skip
FINETUNE = ("dataset.synthetic.num_motions=40", "stage.num_items=4", "stage.steps=3",
            "stage.grid_step=5", "trainer.max_steps=2")  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[dict, list[str], dict]:
    """(the script's module globals, its argv, the report of the first run)."""
    folder = tmp_path_factory.mktemp("study")
    argv = ["--seeds", "2", "--steps", "2", "--guidance", "1,2", "--replications", "1"]
    argv += ["--mm-samples", "2", "--mm-repeats", "2", "--evaluator-epochs", "1"]
    argv += ["--spacing", "logsnr3", "--goal-replications", "2", "--work-dir", str(folder / "work")]
    argv += ["--out-dir", str(folder / "out"), "--train-override", "debug=tiny"]
    argv += ["--evaluator-override", "debug=tiny_evaluator"]
    for setting in FINETUNE:
        argv += ["--finetune-override", setting]
    for setting in PROTOCOL:
        argv += ["--protocol", setting]
    script = runpy.run_path(str(SCRIPT))
    return script, argv, script["main"](argv)


@pytest.mark.slow
def test_every_row_is_produced_per_seed_and_across_seeds(study):
    script, argv, report = study
    expected = {"R, w = 1", "R, w = 2", "B, w = 1", "B, w = 2", "R, finetuned mixture",
                "R, retrieval off", "R, shuffled neighbours", *script["FLOORS"]}  # fmt: skip
    assert set(report["rows"]) == expected
    for label, row in report["rows"].items():
        seeds = 1 if label in script["FLOORS"] else 2
        assert len(row["per_seed"]) == seeds, label
        assert {"fid", "r_precision_top1", "tail_mm_dist"} <= set(row["across_seeds"])
        if label not in script["FLOORS"]:
            assert "multimodality" in row["across_seeds"]
    assert report["training"] == {
        "evaluator": "trained",
        "seed0/retrieval": "trained",
        "seed0/baseline": "trained",
        "seed0/mixture": "trained",
        "seed1/retrieval": "trained",
        "seed1/baseline": "trained",
        "seed1/mixture": "trained",
    }
    work = Path(argv[argv.index("--work-dir") + 1])
    search = json.loads((work / "seed1" / "mixture" / "mixture_search.json").read_text())
    assert len(search["grid"]) == 9  # [-5, 0, 5] squared
    tuned = report["rows"]["R, finetuned mixture"]["per_seed"][1]["mixture"]
    assert (tuned["coarse"], tuned["fine"]) == (search["coarse"], search["fine"])
    assert not (work / "seed1" / "retrieval" / "mixture.yaml").exists()  # the run is untouched
    out = Path(argv[argv.index("--out-dir") + 1])
    assert json.loads((out / "study.json").read_text()) == report
    assert (out / "study.md").read_text().count("\n| ") == 1 + len(expected) + 1 + 2
    assert (out / "study.png").read_bytes().startswith(b"\x89PNG")
    assert set(report["goal"]) == {"fid", "tail_mm_dist"}


@pytest.mark.slow
def test_the_goal_rows_are_replicated_and_their_noise_reported(study):
    script, argv, report = study
    replicated = report["goal_replicated"]
    assert replicated["replications"] == 2 and set(replicated["rows"]) == {"R", "B"}
    for name, row in replicated["rows"].items():
        assert row["label"] == f"{name}, w = {report['best_w'][name]:g}"
        assert [r["seed"] for r in row["per_seed"]] == [0, 1]
        for seed_row in row["per_seed"]:
            assert seed_row["settings"]["replications"] == 2
            assert len(seed_row["metrics"]["fid"]["values"]) == 2
            assert "multimodality" not in seed_row["metrics"]
        for metric in ("fid", "tail_mm_dist"):
            noise = replicated["noise"][name][metric]
            values = [r["metrics"][metric]["values"] for r in row["per_seed"]]
            assert noise["replication_sd"] == pytest.approx(
                sum(abs(a - b) / 2**0.5 for a, b in values) / 2
            )
            assert noise["seed_sd"] == row["across_seeds"][metric]["std"]
    assert set(replicated["goal"]) == {"fid", "tail_mm_dist"}
    out = Path(argv[argv.index("--out-dir") + 1])
    assert "2 replications per seed" in (out / "study.md").read_text()


@pytest.mark.slow
def test_a_row_stored_with_other_settings_is_an_error_naming_it(study):
    script, argv, _ = study
    other = list(argv)
    other[other.index("--replications") + 1] = "2"
    with pytest.raises(script["InputError"], match=r"seed0_R_w1\.json: .*replications"):
        script["main"](other)


@pytest.mark.slow
def test_a_finished_study_is_reused_not_retrained(study):
    script, argv, report = study
    again = script["main"](argv)
    assert set(again["training"].values()) == {"reused"}
    assert again["rows"] == report["rows"]


@pytest.mark.slow
def test_the_shuffled_control_uses_other_neighbours_and_the_baseline_no_retrieval(study):
    script, argv, report = study
    work = Path(argv[argv.index("--work-dir") + 1])
    shuffled = report["rows"]["R, shuffled neighbours"]["per_seed"][0]
    assert shuffled["settings"]["neighbours"] == "shuffled"
    texts, lengths = ["a person walks forward", "a person jumps"], [40, 44]
    run = work / "seed0" / "retrieval"
    retrieved = MotionGenerator(run).prompt_batch(texts, lengths).neighbours
    drawn = MotionGenerator(run, neighbours="shuffled").prompt_batch(texts, lengths).neighbours
    assert not (drawn[..., None] == retrieved[:, None, :]).any()
    config = yaml.safe_load((work / "seed0" / "baseline" / ".hydra" / "config.yaml").read_text())
    assert config["stage"]["branch_probabilities"] == [0, 0.8, 0, 0.2]  # no retrieval, ever
    assert report["branch_probabilities"] == [0.7, 0.1, 0.1, 0.1]


def test_the_goal_verdict_names_the_model_ahead_and_needs_two_seeds():
    script = runpy.run_path(str(SCRIPT))

    def across(*seeds: float) -> dict:
        return {"fid": {"mean": statistics.fmean(seeds), "seeds": list(seeds),
                        "std": statistics.stdev(seeds) if len(seeds) > 1 else 0.0}}  # fmt: skip

    def verdict(r: dict, b: dict) -> str:
        return script["verdict"](script["beats"](r, b, "fid"))

    one = script["beats"](across(0.6), across(1.0), "fid")
    assert one["beyond_spread"] is None and one["difference"] == pytest.approx(0.4)
    assert verdict(across(0.6), across(1.0)) == "one training seed, no spread to compare with"
    assert verdict(across(0.5, 0.7), across(1.0, 1.2)) == "R ahead beyond the spread"
    assert verdict(across(1.0, 1.2), across(0.5, 0.7)) == "B ahead beyond the spread"
    assert verdict(across(0.5, 1.5), across(0.9, 1.4)) == "inside the noise"
