"""`python -m remodiffuse.build_index` builds a database that loads and answers exactly."""

import signal
import subprocess
import sys
import time

import numpy as np

from remodiffuse.retrieval import RetrievalDatabase


def test_build_index_cli_builds_and_reuses_the_cache(tmp_path):
    command = [
        sys.executable,
        "-m",
        "remodiffuse.build_index",
        f"paths.data_dir={tmp_path / 'data'}",
        "dataset.synthetic.num_motions=30",
        f"out_dir={tmp_path / 'db'}",
    ]
    first = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert "building text feature cache" in first.stdout + first.stderr
    assert "retrieves:" in first.stdout
    second = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert "text feature cache hit" in second.stdout + second.stderr

    database = RetrievalDatabase.load(tmp_path / "db")
    assert len(database) == len(database.captions) > 0
    norms = np.linalg.norm(database.sentence_features, axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)
    query = database.sentence_features[:3]
    lengths = np.array([60, 100, 196])
    indices, scores = database.query(query, lengths, k=2, exclude="none")
    cosine = database.sentence_features @ query.T  # (N, 3)
    gap = np.abs(database.lengths[:, None] - lengths) / np.maximum(
        database.lengths[:, None], lengths
    )
    brute = cosine * np.exp(-0.1 * gap)  # (N, 3)
    assert database.config.distinct_motions  # the CLI's default: the best entry of each motion
    for q in range(3):
        best_per_motion: dict[str, float] = {}
        for motion_id, score in zip(database.ids, brute[:, q], strict=True):
            best_per_motion[motion_id] = max(score, best_per_motion.get(motion_id, -np.inf))
        expected = sorted(best_per_motion.values(), reverse=True)[:2]
        np.testing.assert_allclose(scores[q], expected, atol=1e-6)
        assert len({database.ids[i] for i in indices[q]}) == 2


def _build_command(tmp_path, out_dir, num_motions=30) -> list[str]:
    return [
        sys.executable,
        "-m",
        "remodiffuse.build_index",
        f"paths.data_dir={tmp_path / 'data'}",
        f"dataset.synthetic.num_motions={num_motions}",
        f"out_dir={out_dir}",
        "examples=0",
    ]


def _wait_for(predicate, process, timeout=300.0) -> bool:
    """Poll until predicate() or the process ends; True when predicate() held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if predicate():
            return True
        time.sleep(0.002)
    return False


def test_build_index_killed_while_writing_keeps_the_previous_database(tmp_path):
    out = tmp_path / "db"
    subprocess.run(_build_command(tmp_path, out), check=True, capture_output=True, cwd=tmp_path)
    before = RetrievalDatabase.load(out)
    captions = list(before.captions)

    # a bigger set, so the new database takes a while to write; kill while it is being written
    process = subprocess.Popen(
        _build_command(tmp_path, out, num_motions=300),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = lambda: any(p.name.startswith(f".{out.name}.tmp-") for p in tmp_path.iterdir())  # noqa: E731
    caught = _wait_for(staging, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert caught, "the build finished before its staging folder was seen"
    assert list(RetrievalDatabase.load(out).captions) == captions  # the previous good one

    subprocess.run(
        _build_command(tmp_path, out, num_motions=300),
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert len(RetrievalDatabase.load(out)) > len(captions)


def test_two_concurrent_builds_both_succeed(tmp_path):
    out = tmp_path / "db"
    processes = [
        subprocess.Popen(
            _build_command(tmp_path, out),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    database = RetrievalDatabase.load(out)
    assert len(database) > 0 and database.token_features is not None
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
