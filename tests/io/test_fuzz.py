"""Seeded fuzzing of the mocap and caption readers: every mutated file gives finite data or the
library's InputError, within CASE_SECONDS and MEMORY_HEADROOM above the worker's baseline.

The cases run in a worker process (this file run as a script) under RLIMIT_AS and a per-case
alarm; the parent fails on any other exception, a bad result, a hang or a crash, naming the case
(its mutated input is kept under the test's tmp_path/failures). The worker first runs
deliberately broken targets to show that the harness catches each kind of failure.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

SEED = 18
CASES_PER_SAMPLE = 150
CASE_SECONDS = 3.0
MEMORY_HEADROOM = 2 << 30  # bytes of address space above the worker's baseline
WORKER_SECONDS = 240.0  # the whole batch; a hang inside C code ends here
CMU_FRAMES = 10  # frames kept of each real take

HUGE = [b"1e308", b"-1e308", b"1e309", b"9" * 400, b"99999999999", b"4294967296", b"1e-320", b"0"]
NON_FINITE = [b"nan", b"inf", b"-inf", b"NaN", b"Infinity"]
SPECIAL = [b"{", b"}", b"ROOT", b"JOINT", b"End", b"Site", b"MOTION", b"OFFSET", b"CHANNELS",
           b"Frames:", b"Time:", b":bonedata", b":hierarchy", b"begin", b"end", b"root", b"dof",
           b"#", b'"', b",", b"\x00", b"\xe9", b"\xb2"]  # fmt: skip
HEADER_VALUES = [*HUGE, *NON_FINITE, *SPECIAL, b"-1", b"-3", b"7", b"1.5", b"\xb2", b"XYZ"]
_TOKEN = re.compile(rb"\S+")
_HEADER = re.compile(  # a header keyword and the value after it
    rb"(?:CHANNELS|Frames:|Time:|OFFSET|length|direction|dof|order|axis|position|orientation)"
    rb"[ \t]+(\S+)"
)
_NUMBER = re.compile(rb"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


# --- mutations: (bytes, rng) -> bytes ---------------------------------------------------------


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: rng.integers(0, len(data) + 1)]


def _flip_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for position in rng.integers(0, max(len(out), 1), size=rng.integers(1, 9)):
        if out:
            out[position] = rng.integers(0, 256)
    return bytes(out)


def _insert_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    at = rng.integers(0, len(data) + 1)
    return (
        data[:at]
        + rng.integers(0, 256, size=rng.integers(1, 21)).astype(np.uint8).tobytes()
        + data[at:]
    )


def _duplicate_lines(data: bytes, rng: np.random.Generator) -> bytes:
    lines = _lines(data)
    start = rng.integers(0, len(lines))
    stop = min(start + rng.integers(1, 40), len(lines))
    copies = int(rng.choice([1, 2, 10, 200]))
    return b"\n".join(lines[:stop] + lines[start:stop] * copies + lines[stop:])


def _delete_line(data: bytes, rng: np.random.Generator) -> bytes:
    lines = _lines(data)
    del lines[rng.integers(0, len(lines))]
    return b"\n".join(lines)


def _swap_lines(data: bytes, rng: np.random.Generator) -> bytes:
    lines = _lines(data)
    i, j = rng.integers(0, len(lines), size=2)
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def _blank_lines(data: bytes, rng: np.random.Generator) -> bytes:
    at = rng.integers(0, len(data) + 1)
    return data[:at] + rng.choice([b"\n", b" \n", b"\r\n"]) * 100_000 + data[at:]


def _replace_span(data: bytes, span: tuple[int, int], new: bytes) -> bytes:
    return data[: span[0]] + new + data[span[1] :]


def _token_mutation(pattern: re.Pattern, pick: Callable[[bytes, np.random.Generator], bytes]):
    """A mutation replacing one random match of `pattern` by pick(match, rng)."""

    def mutate(data: bytes, rng: np.random.Generator) -> bytes:
        spans = [m.span() for m in pattern.finditer(data)]
        if not spans:
            return data
        span = spans[rng.integers(0, len(spans))]
        return _replace_span(data, span, pick(data[span[0] : span[1]], rng))

    return mutate


def _header_value(data: bytes, rng: np.random.Generator) -> bytes:
    spans = [m.span(1) for m in _HEADER.finditer(data)]
    if not spans:
        return data
    value = HEADER_VALUES[rng.integers(len(HEADER_VALUES))]
    return _replace_span(data, spans[rng.integers(0, len(spans))], value)


def _swap_tokens(data: bytes, rng: np.random.Generator) -> bytes:
    spans = [m.span() for m in _TOKEN.finditer(data)]
    if len(spans) < 2:
        return data
    first, second = sorted(spans[i] for i in rng.choice(len(spans), size=2, replace=False))
    a, b = data[first[0] : first[1]], data[second[0] : second[1]]
    return data[: first[0]] + b + data[first[1] : second[0]] + a + data[second[1] :]


MUTATIONS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "truncate": _truncate,
    "flip_bytes": _flip_bytes,
    "insert_bytes": _insert_bytes,
    "duplicate_lines": _duplicate_lines,
    "delete_line": _delete_line,
    "swap_lines": _swap_lines,
    "swap_tokens": _swap_tokens,
    "blank_lines": _blank_lines,
    "huge_number": _token_mutation(_NUMBER, lambda _, rng: HUGE[rng.integers(len(HUGE))]),
    "non_finite": _token_mutation(
        _NUMBER, lambda _, rng: NON_FINITE[rng.integers(len(NON_FINITE))]
    ),
    "negate": _token_mutation(_NUMBER, lambda token, _: b"-" + token.lstrip(b"+-")),
    "special_token": _token_mutation(_TOKEN, lambda _, rng: SPECIAL[rng.integers(len(SPECIAL))]),
    "header_value": _header_value,
}


def mutate(data: bytes, rng: np.random.Generator) -> tuple[bytes, list[str]]:
    """1 to 3 random mutations of `data` and their names."""
    names = [str(rng.choice(list(MUTATIONS))) for _ in range(rng.integers(1, 4))]
    for name in names:
        data = MUTATIONS[name](data, rng)
    return data, names


# --- samples (written by the parent) ------------------------------------------------------------


def _generated_samples(folder: Path) -> list[dict]:
    """Small valid files from tests/io/mocap_samples.py and the caption writers."""
    from mocap_samples import TINY_AMC, TINY_ASF, TINY_BVH, walking

    from remodiffuse.export.bvh import write_bvh
    from remodiffuse.io.captions import caption_line

    folder.mkdir(parents=True)
    (folder / "tiny.bvh").write_text(TINY_BVH)
    write_bvh(walking(24), folder / "walk.bvh", fps=20)
    (folder / "tiny.asf").write_text(TINY_ASF)
    (folder / "tiny.amc").write_text(TINY_AMC)
    texts = ["a person walks forward", "someone jumps twice, then turns left"]
    lines = [caption_line(t) for t in texts] + ["a person waves#a/DET person/NOUN#1.5#3.0"]
    (folder / "texts.txt").write_text("\n".join(lines) + "\n")
    (folder / "captions.csv").write_text('id,caption\nwalk,"walks, then turns"\nrun,runs\n')
    (folder / "cmu.csv").write_text(
        '"Subject","Trial #","Motion Description"\n1,1,"walk"\n2,10,"jump"\n'
    )
    return [
        {"kind": "bvh", "files": {"motion": "tiny.bvh"}, "mapped": False},
        {"kind": "bvh", "files": {"motion": "walk.bvh"}, "mapped": True},
        {"kind": "asf_amc", "files": {"skeleton": "tiny.asf", "motion": "tiny.amc"},
         "mapped": False},
        {"kind": "caption_lines", "files": {"text": "texts.txt"}},
        {"kind": "caption_txt", "files": {"text": "texts.txt"}},
        {"kind": "caption_csv", "files": {"text": "captions.csv"}},
        {"kind": "caption_csv", "files": {"text": "cmu.csv"}},
    ]  # fmt: skip


def _first_bvh_frames(text: str, frames: int) -> str:
    head, motion = text.split("MOTION", 1)
    rows = [line for line in motion.splitlines() if line.strip()][2 : 2 + frames]
    frame_time = [line for line in motion.splitlines() if "Frame Time" in line][0]
    return f"{head}MOTION\nFrames: {frames}\n{frame_time}\n" + "\n".join(rows) + "\n"


def _first_amc_frames(text: str, frames: int) -> str:
    marker = f"\n{frames + 1}\n"
    return text[: text.index(marker) + 1]


def _cmu_samples(folder: Path, cmu: Path) -> list[dict]:
    """The first CMU_FRAMES frames of real CMU takes (written under tmp_path, never the repo)."""
    folder.mkdir(parents=True)
    bvh = (cmu / "bvh" / "131_01.bvh").read_text(encoding="latin-1")
    (folder / "131_01.bvh").write_text(_first_bvh_frames(bvh, CMU_FRAMES))
    (folder / "02.asf").write_bytes((cmu / "asfamc" / "02.asf").read_bytes())
    amc = (cmu / "asfamc" / "02_01.amc").read_text(encoding="latin-1")
    (folder / "02_01.amc").write_text(_first_amc_frames(amc, CMU_FRAMES))
    descriptions = (cmu / "cmu-descriptions.csv").read_text(encoding="utf-8").splitlines()
    (folder / "descriptions.csv").write_text("\n".join(descriptions[:20]) + "\n")
    return [
        {"kind": "bvh", "files": {"motion": "131_01.bvh"}, "mapped": True},
        {"kind": "asf_amc", "files": {"skeleton": "02.asf", "motion": "02_01.amc"},
         "mapped": True},
        {"kind": "caption_csv", "files": {"text": "descriptions.csv"}},
    ]  # fmt: skip


# --- the worker ---------------------------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by the alarm in a case over CASE_SECONDS (a BaseException: never swallowed)."""


class BadResult(Exception):
    """A target returned data that is not finite or not shaped as documented."""


def _on_alarm(signum, frame):
    raise CaseTimeout(f"over {CASE_SECONDS} s")


def _check_clip(clip) -> None:
    positions = clip.positions
    if positions.ndim != 3 or positions.shape[0] < 1 or positions.shape[2] != 3:
        raise BadResult(f"positions of shape {positions.shape}")
    if not (np.isfinite(positions).all() and np.isfinite(clip.fps) and clip.fps > 0):
        raise BadResult("non-finite positions or fps")


def _check_imported(imported) -> None:
    joints = imported.joints
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or not np.isfinite(joints).all():
        raise BadResult(f"joints of shape {joints.shape}, finite: {np.isfinite(joints).all()}")


def _run_motion(sample: dict, paths: dict[str, Path]) -> None:
    from remodiffuse.io import read_asf_amc, read_bvh
    from remodiffuse.io.importer import MotionSource, import_motion

    if sample["kind"] == "bvh":
        _check_clip(read_bvh(paths["motion"]))
        source = MotionSource("case", paths["motion"])
    else:
        _check_clip(read_asf_amc(paths["skeleton"], paths["motion"]))
        source = MotionSource("case", paths["motion"], paths["skeleton"])
    if sample["mapped"]:
        _check_imported(import_motion(source))


def _run_captions(sample: dict, paths: dict[str, Path]) -> None:
    from remodiffuse.data.caption_line import parse_caption_line
    from remodiffuse.io.captions import read_caption_csv, read_caption_txt

    path = paths["text"]
    if sample["kind"] == "caption_lines":
        for line in path.read_bytes().decode("latin-1").splitlines():
            caption = parse_caption_line(line)
            if caption is not None and not (
                np.isfinite(caption.start) and np.isfinite(caption.end)
            ):
                raise BadResult(f"caption times {caption.start}, {caption.end}")
    elif sample["kind"] == "caption_txt":
        captions = read_caption_txt(path)
        if not all(isinstance(text, str) for text in captions):
            raise BadResult(f"captions {captions!r}")
    else:
        table = read_caption_csv(path)
        if not all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in table.values()
        ):
            raise BadResult(f"caption table {table!r}")


def _selftest_targets() -> dict[str, Callable[[], None]]:
    """Broken targets the harness must flag (and one raising the library's error, which passes)."""
    from remodiffuse.io import MocapFormatError

    def input_error() -> None:
        raise MocapFormatError("selftest.bvh", "refused")

    def crash() -> None:
        {}["missing"]

    def hang() -> None:
        while True:
            pass

    def memory() -> None:
        np.ones(2 * MEMORY_HEADROOM // 8)  # twice the headroom

    def not_finite() -> None:
        raise BadResult("nan positions")

    return {"input_error": input_error, "crash": crash, "hang": hang, "memory": memory,
            "not_finite": not_finite}  # fmt: skip


def _run_case(run: Callable[[], None]) -> str | None:
    """None when `run` returns or raises an InputError, else a description of the failure."""
    from remodiffuse.errors import InputError

    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        run()
    except InputError:
        return None
    except BaseException as error:  # noqa: BLE001 -- every other outcome is a failure
        return "".join(traceback.format_exception_only(type(error), error)).strip()[:2000]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def _fuzz(sample_dir: Path, samples: list[dict], work: Path) -> list[dict]:
    """Failures of CASES_PER_SAMPLE mutated variants of every sample."""
    failures = []
    for index, sample in enumerate(samples):
        originals = {
            role: (sample_dir / name).read_bytes() for role, name in sample["files"].items()
        }
        for case in range(CASES_PER_SAMPLE):
            rng = np.random.default_rng([SEED, index, case])
            role = str(rng.choice(sorted(originals)))
            data, mutations = mutate(originals[role], rng)
            paths = {}
            for name, original in originals.items():
                paths[name] = work / f"case-{name}{Path(sample['files'][name]).suffix}"
                paths[name].write_bytes(data if name == role else original)
            label = f"{sample['files'][role]} case {case} ({', '.join(mutations)})"
            (work / "progress.txt").write_text(label)
            runner = _run_motion if sample["kind"] in ("bvh", "asf_amc") else _run_captions
            problem = _run_case(partial(runner, sample, paths))
            if problem is not None:
                kept = work / "failures" / f"{index}-{case}-{sample['files'][role]}"
                kept.parent.mkdir(exist_ok=True)
                kept.write_bytes(data)
                failures.append({"case": label, "problem": problem, "input": str(kept)})
    return failures


def _worker(manifest_path: Path) -> None:
    """Run the cases of the manifest under the memory and time bounds; write results.json."""
    import remodiffuse.io.importer  # noqa: F401 -- the baseline includes the library

    manifest = json.loads(manifest_path.read_text())
    work = manifest_path.parent
    baseline = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (baseline + MEMORY_HEADROOM, hard))
    signal.signal(signal.SIGALRM, _on_alarm)
    selftest = {}
    if manifest["selftest"]:
        for name, target in _selftest_targets().items():
            (work / "progress.txt").write_text(f"selftest {name}")
            selftest[name] = _run_case(target)
    failures = _fuzz(Path(manifest["sample_dir"]), manifest["samples"], work)
    (work / "results.json").write_text(json.dumps({"selftest": selftest, "failures": failures}))


# --- the tests ----------------------------------------------------------------------------------


def _run_worker(tmp_path: Path, sample_dir: Path, samples: list[dict], selftest: bool) -> dict:
    """Results of the worker on `samples`; fails the test on a hang or a crash of the worker."""
    work = tmp_path / "work"
    work.mkdir()
    manifest = work / "manifest.json"
    manifest.write_text(json.dumps({"sample_dir": str(sample_dir), "samples": samples,
                                    "selftest": selftest}))  # fmt: skip
    threads = {key: "1" for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    command = [sys.executable, __file__, str(manifest)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=WORKER_SECONDS,
                                env={**os.environ, **threads}, cwd=work)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"fuzz worker hung in {(work / 'progress.txt').read_text()}")
    if result.returncode != 0 or not (work / "results.json").is_file():
        last = (work / "progress.txt").read_text() if (work / "progress.txt").exists() else "?"
        pytest.fail(
            f"fuzz worker died (code {result.returncode}) in {last}:\n{result.stderr[-3000:]}"
        )
    return json.loads((work / "results.json").read_text())


def _report(failures: list[dict]) -> str:
    return "\n".join(f"{f['case']}: {f['problem']} (input kept at {f['input']})" for f in failures)


@pytest.mark.slow
def test_mutated_generated_samples(tmp_path):
    samples = _generated_samples(tmp_path / "samples")
    start = time.perf_counter()
    results = _run_worker(tmp_path, tmp_path / "samples", samples, selftest=True)
    selftest = results["selftest"]
    assert selftest["input_error"] is None
    assert selftest["crash"].startswith("KeyError") and "MemoryError" in selftest["memory"]
    assert selftest["hang"].startswith("CaseTimeout") and "nan positions" in selftest["not_finite"]
    assert not results["failures"], _report(results["failures"])
    assert time.perf_counter() - start < 120.0


@pytest.mark.slow
def test_mutated_cmu_samples(tmp_path, require_fixture):
    samples = _cmu_samples(tmp_path / "samples", require_fixture("data", "cmu-mini"))
    results = _run_worker(tmp_path, tmp_path / "samples", samples, selftest=False)
    assert not results["failures"], _report(results["failures"])


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
