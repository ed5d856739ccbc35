"""Generation from a trained run: files, determinism, retrieval log and clear errors."""

import json
import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

from remodiffuse.diffusion.samplers import DPMSolverPlusPlusSampler
from remodiffuse.errors import InputError
from remodiffuse.export.generated import GeneratedWriter
from remodiffuse.io import read_bvh
from remodiffuse.motion import get_skeleton
from remodiffuse.pipeline import (
    KnownMotion,
    MotionGenerator,
    Prompt,
    batches,
    read_prompts,
    save_database,
)


@pytest.fixture(scope="module")
def generator(tiny_trained_run) -> MotionGenerator:
    run_dir, _ = tiny_trained_run
    return MotionGenerator(run_dir)


def test_same_seed_same_motion_and_lengths_respected(generator):
    texts = ["a person walks forward", "someone waves the left hand"]
    first = generator.generate(texts, [60, 44], seed=3, steps=5)
    second = generator.generate(texts, [60, 44], seed=3, steps=5)
    other = generator.generate(texts, [60, 44], seed=4, steps=5)
    assert [m.features.shape for m in first] == [(60, 263), (44, 263)]
    assert [m.joints.shape for m in first] == [(60, 22, 3), (44, 22, 3)]
    for a, b, c in zip(first, second, other, strict=True):
        np.testing.assert_array_equal(a.features, b.features)
        assert not np.allclose(a.features, c.features)
        assert len(a.retrieved) == 2 and all(isinstance(x, str) for x in a.retrieved)


def test_sampler_option_overrides_the_runs_sampler(generator):
    texts, lengths = ["a person walks forward"], [48]
    run_default = generator.generate(texts, lengths, seed=1, steps=4)[0].features
    ddim = generator.generate(texts, lengths, seed=1, steps=4, sampler="ddim")[0].features
    dpm = generator.generate(texts, lengths, seed=1, steps=4, sampler="dpm_solver++")[0].features
    np.testing.assert_array_equal(run_default, ddim)  # the tiny run samples with DDIM
    assert isinstance(generator.sampler(4, "dpm_solver++"), DPMSolverPlusPlusSampler)
    assert np.isfinite(dpm).all() and not np.array_equal(dpm, ddim)
    with pytest.raises(InputError, match="unknown sampler 'euler'"):
        generator.generate(texts, lengths, steps=4, sampler="euler")


def test_shuffled_neighbours_are_random_entries_other_than_the_retrieved(tiny_trained_run):
    texts, lengths = ["a person walks forward", "a person jumps"], [48, 40]
    retrieved = MotionGenerator(tiny_trained_run[0]).prompt_batch(texts, lengths).neighbours
    shuffled = MotionGenerator(tiny_trained_run[0], neighbours="shuffled")
    first = shuffled.prompt_batch(texts, lengths, seed=3).neighbours  # (B, k)
    again = shuffled.prompt_batch(texts, lengths, seed=3).neighbours
    other = shuffled.prompt_batch(texts, lengths, seed=4).neighbours
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not (first[..., None] == retrieved[:, None, :]).any()
    with pytest.raises(InputError, match="neighbours must be one of"):
        MotionGenerator(tiny_trained_run[0], neighbours="random")


def test_checkpoint_file_and_run_directory_load_the_same_weights(tiny_trained_run, generator):
    _, last = tiny_trained_run
    from_checkpoint = MotionGenerator(last)
    a = generator.generate(["a person jumps"], [48], seed=0, steps=4)[0]
    b = from_checkpoint.generate(["a person jumps"], [48], seed=0, steps=4)[0]
    np.testing.assert_allclose(a.features, b.features, atol=1e-5)


def _retrieval_switches(generator: MotionGenerator, monkeypatch) -> list[list[bool]]:
    """Generate one motion in 3 steps; the retrieval_on rows of every network call."""
    seen = []
    forward = generator.model.forward_from_sums

    def spy(x, t, sums, text_on, retrieval_on, mask):
        seen.append(retrieval_on.tolist())
        return forward(x, t, sums, text_on, retrieval_on, mask)

    monkeypatch.setattr(generator.model, "forward_from_sums", spy)
    generator.generate(["a person walks"], [40], seed=0, steps=3)
    return seen


def test_use_retrieval_false_switches_retrieval_off_in_every_branch(tiny_trained_run, monkeypatch):
    run_dir, _ = tiny_trained_run
    default = _retrieval_switches(MotionGenerator(run_dir), monkeypatch)
    assert len(default) == 3 and any(any(rows) for rows in default)
    off = _retrieval_switches(MotionGenerator(run_dir, use_retrieval=False), monkeypatch)
    assert [len(rows) for rows in off] == [len(rows) for rows in default]
    assert not any(any(rows) for rows in off)


def test_a_mixture_config_replaces_the_run_mixture(tiny_trained_run, monkeypatch):
    run_dir, _ = tiny_trained_run
    retrieval_only = {"form": "paper", "coarse": [0, 0, 1, 0], "fine": [0, 0, 1, 0]}
    switches = _retrieval_switches(MotionGenerator(run_dir, mixture=retrieval_only), monkeypatch)
    assert switches == [[True]] * 3  # one branch evaluated: retrieval only


def test_bad_requests_are_clear_errors(generator, tmp_path):
    with pytest.raises(ValueError, match="outside the model's range"):
        generator.generate(["a person walks"], [500])
    with pytest.raises(ValueError, match="empty"):
        generator.generate(["   "], [60])
    with pytest.raises(InputError, match="no trained model"):
        MotionGenerator(tmp_path)


def test_saved_files_and_bvh_round_trip(generator, tmp_path):
    motions = generator.generate(["a person runs forward"], [60], seed=0, steps=4)
    written = GeneratedWriter(tmp_path, "humanml3d", 20.0, render=False).write(motions)
    stem = tmp_path / "0_a_person_runs_forward"
    assert {p.name for p in written} >= {
        f"{stem.name}.features.npy",
        f"{stem.name}.joints.npy",
        f"{stem.name}.bvh",
        "retrieved.json",
    }
    log = json.loads((tmp_path / "retrieved.json").read_text())
    assert log[0]["text"] == "a person runs forward" and len(log[0]["retrieved"]) == 2
    clip = read_bvh(f"{stem}.bvh")  # centimetres
    names = get_skeleton("humanml3d").joint_names
    order = [clip.joint_names.index(name) for name in names]
    error = np.abs(clip.positions[:, order] / 100.0 - motions[0].joints).max()
    assert error < 0.01, f"BVH round trip moved a joint by {error:.4f} m"


def test_read_prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("a person walks#80\n\nsomeone jumps\n")
    assert read_prompts(path, 120) == [Prompt("a person walks", 80), Prompt("someone jumps", 120)]
    for bad in ("a person walks#eighty\n", "a person walks#80.5\n", "#80\n"):
        path.write_text(bad)
        with pytest.raises(InputError, match="prompts.txt:1"):
            read_prompts(path, 120)
    path.write_bytes(b"a person walks\n\xff\xfe\n")
    with pytest.raises(InputError, match="prompts.txt: not UTF-8 text"):
        read_prompts(path, 120)


def test_batches_keep_prompt_order_and_bound_the_size():
    prompts = [Prompt("a", 40), Prompt("b", 50)]
    assert [[p.text for p in batch] for batch in batches(prompts, 3, 4)] == [
        ["a", "a", "a", "b"],
        ["b", "b"],
    ]


def test_writer_numbers_across_batches_and_refuses_a_used_folder(generator, tmp_path):
    writer = GeneratedWriter(tmp_path / "out", "humanml3d", 20.0, render=False)
    writer.write(generator.generate(["a person walks"], [40], seed=0, steps=2))
    writer.write(generator.generate(["a person jumps"], [40], seed=1, steps=2))
    log = json.loads((tmp_path / "out" / "retrieved.json").read_text())
    assert [entry["file"] for entry in log] == ["0_a_person_walks", "1_a_person_jumps"]
    with pytest.raises(InputError, match="not empty"):
        GeneratedWriter(tmp_path / "out", "humanml3d", 20.0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        GeneratedWriter(tmp_path / "file", "humanml3d", 20.0)


def test_non_finite_samples_are_an_error_not_files(generator):
    with torch.no_grad():
        parameter = next(generator.model.output_proj.parameters())
        saved = parameter.clone()
        parameter.fill_(float("nan"))
    try:
        with pytest.raises(InputError, match="non-finite motions"):
            generator.generate(["a person walks"], [40], seed=0, steps=2)
    finally:
        with torch.no_grad():
            parameter.copy_(saved)


@pytest.mark.slow
def test_generate_cli_writes_the_files(tiny_trained_run, tmp_path):
    run_dir, _ = tiny_trained_run
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "remodiffuse.generate",
            f"ckpt={run_dir}",
            "text=a person kicks with the right leg",
            "length=48",
            "num_samples=2",
            "sampler=dpm_solver++",
            "steps=logsnr4",
            f"out_dir={out}",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    names = sorted(p.name for p in out.iterdir())
    assert "retrieved.json" in names
    assert sum(name.endswith(".bvh") for name in names) == 2
    assert sum(name.endswith((".mp4", ".gif")) for name in names) == 2


def test_database_from_another_dataset_is_renormalised(tiny_trained_run, tmp_path):
    from remodiffuse.data import TextMotionDataset
    from remodiffuse.data.synthetic import ensure_synthetic_dataset
    from remodiffuse.retrieval import RetrievalConfig
    from remodiffuse.stages.conditioning import build_database
    from remodiffuse.text import build_text_encoder

    root = ensure_synthetic_dataset(tmp_path / "other", num_motions=30, seed=7)
    other = TextMotionDataset(root, "train")
    database = build_database(
        other, build_text_encoder("minilm"), tmp_path / "cache", RetrievalConfig()
    )
    save_database(database, tmp_path / "db", other.mean, other.std)

    run_dir, _ = tiny_trained_run
    generator = MotionGenerator(run_dir, database=tmp_path / "db")
    database_mean, database_std, model_mean, model_std = generator.retrieval_statistics
    np.testing.assert_array_equal(database_mean, other.mean)
    np.testing.assert_array_equal(model_mean, generator.mean)
    motion = generator.generate(["a person jumps"], [52], seed=0, steps=3)[0]
    assert set(motion.retrieved) <= set(other.captions)


def test_known_prefix_keyframes_and_body_part_come_out_exactly(generator):
    from remodiffuse.motion.channels import body_part_joints, joint_channels

    texts, lengths = ["a person walks forward", "a person jumps", "someone waves"], [48, 40, 44]
    free = generator.generate(texts, lengths, seed=2, steps=5)
    source = generator.generate(["a person runs"] * 3, lengths, seed=9, steps=5)
    prefix = np.zeros((48, 263), np.float32)
    prefix[:16] = 1.0  # continue the first 16 frames of the source
    keyframes = np.zeros((40, 263), np.float32)
    keyframes[[0, 20, 39]] = 1.0
    skeleton = get_skeleton(generator.skeleton)
    lower = joint_channels(skeleton, body_part_joints(skeleton, "lower_body"))
    keep_lower = np.broadcast_to(lower.astype(np.float32), (44, 263))  # edit the upper body
    weights = [prefix, keyframes, keep_lower]
    known = [KnownMotion(m.features, w) for m, w in zip(source, weights, strict=True)]
    edited = generator.generate(texts, lengths, seed=2, steps=5, known=known)
    for motion, item, original in zip(edited, known, free, strict=True):
        pinned = item.weight == 1
        np.testing.assert_array_equal(motion.features[pinned], item.features[pinned])
        assert not np.allclose(motion.features[~pinned], original.features[~pinned])
    again = generator.generate(texts, lengths, seed=2, steps=5, known=[None, None, None])
    for a, b in zip(again, free, strict=True):
        np.testing.assert_array_equal(a.features, b.features)
    with pytest.raises(InputError, match=r"known motion 0: features of shape \(10, 263\)"):
        generator.generate(texts[:1], [48], steps=5, known=[KnownMotion(prefix[:10], prefix)])
    with pytest.raises(InputError, match="2 known motions for 1 prompts"):
        generator.generate(texts[:1], [48], steps=5, known=[None, None])


def test_an_ordered_key_database_is_queried_with_ordered_prompt_keys(tiny_trained_run, tmp_path):
    from remodiffuse.data import TextMotionDataset
    from remodiffuse.retrieval import RetrievalConfig, hybrid_scores, retrieval_keys
    from remodiffuse.stages.conditioning import build_database

    run_dir, _ = tiny_trained_run
    plain = MotionGenerator(run_dir)
    train = TextMotionDataset(run_dir.parent / "data" / "synthetic", "train")
    config = RetrievalConfig(key="ordered", key_parts=3, distinct_motions=True)
    database = build_database(train, plain.encoder, tmp_path / "cache", config)
    save_database(database, tmp_path / "db", train.mean, train.std)
    generator = MotionGenerator(run_dir, database=tmp_path / "db")
    assert generator.database.config.key == "ordered"
    assert generator.database.sentence_features.shape[1] == 3 * plain.encoder.sentence_dim

    texts, lengths = ["a person walks forward, then jumps", "a person jumps, then walks"], [48, 40]
    found = generator.prompt_batch(texts, lengths).neighbours  # (2, k)
    features = plain.encoder.encode(texts)
    keys = retrieval_keys(config, features.sentence.numpy(), features.tokens.numpy(),
                          features.mask.numpy())  # fmt: skip
    database = generator.database
    cosine = keys.astype(np.float64) @ database.sentence_features.astype(np.float64).T
    scores = hybrid_scores(cosine, database.lengths[None], np.array(lengths)[:, None], config.lam)
    for row in range(2):  # the k best distinct motions by brute force over ordered keys
        best, taken = [], set()
        for entry in np.argsort(-scores[row], kind="stable"):
            if database.ids[entry] not in taken:
                best.append(entry)
                taken.add(database.ids[entry])
        np.testing.assert_array_equal(found[row], best[: config.num_retrieval])
    assert not np.array_equal(found, plain.prompt_batch(texts, lengths).neighbours)


@pytest.mark.slow
def test_generation_retrieves_from_an_imported_mocap_database(
    tiny_trained_run, tmp_path, require_fixture
):
    import csv

    from remodiffuse.data import TextMotionDataset
    from remodiffuse.io.importer import prepare_dataset
    from remodiffuse.retrieval import RetrievalConfig
    from remodiffuse.stages.conditioning import build_database
    from remodiffuse.text import build_text_encoder

    cmu = require_fixture("data", "cmu-mini")
    descriptions = cmu / "cmu-descriptions.csv"
    prepare_dataset(cmu, tmp_path / "cmu", captions=descriptions)
    train = TextMotionDataset(tmp_path / "cmu", "train", long_motions="window")
    database = build_database(
        train, build_text_encoder("minilm"), tmp_path / "cache", RetrievalConfig()
    )
    save_database(database, tmp_path / "db", train.mean, train.std)

    run_dir, _ = tiny_trained_run
    generator = MotionGenerator(run_dir, database=tmp_path / "db")
    motions = generator.generate(["a person walks forward", "a person jumps"], [80, 60], steps=3)
    with descriptions.open(newline="") as file:
        cmu_captions = {row["Motion Description"].strip() for row in csv.DictReader(file)}
    retrieved = {caption for motion in motions for caption in motion.retrieved}
    assert retrieved and retrieved <= cmu_captions, retrieved - cmu_captions


def test_over_long_prompts_are_warned_about(generator, caplog):
    long_prompt = " ".join(["walk"] * 100)
    with caplog.at_level(logging.WARNING, logger="remodiffuse.pipeline.generator"):
        generator.generate([long_prompt, "a person walks"], [40, 40], seed=0, steps=2)
    warnings = [r.getMessage() for r in caplog.records if "longer than" in r.getMessage()]
    assert len(warnings) == 1 and "its end is cut" in warnings[0]


def test_bf16_sampling_stays_close_to_fp32(tiny_trained_run):
    run_dir, _ = tiny_trained_run
    texts, lengths = ["a person walks forward", "someone jumps"], [60, 44]
    fp32 = MotionGenerator(run_dir).generate(texts, lengths, seed=3, steps=5)
    bf16 = MotionGenerator(run_dir, precision="bf16").generate(texts, lengths, seed=3, steps=5)
    for a, b in zip(fp32, bf16, strict=True):
        assert b.features.dtype == np.float32 and b.retrieved == a.retrieved
        scale = np.abs(a.features).max()
        error = np.abs(a.features - b.features).max() / scale
        assert 0 < error < 0.03, f"bf16 differs from fp32 by {error:.4f} of the feature range"
    with pytest.raises(InputError, match="precision='fp16'"):
        MotionGenerator(run_dir, precision="fp16")
