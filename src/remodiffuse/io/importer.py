"""Import BVH / ASF+AMC takes into a HumanML3D-layout dataset (`python -m remodiffuse.prepare`).

Per file: read, map to the 22 HumanML3D joints (metres, Y up, units and up axis detected, a
leading T-pose frame dropped when detected), resample to 20 fps from the file's own frame time,
`features_from_joints`. Unreadable or unmappable files are skipped with a reason in report.json.

    out_dir/new_joint_vecs/ID.npy  (T-1, 263) float32 features
    out_dir/new_joints/ID.npy      (T-1, 22, 3) float32 joints recovered from the features
    out_dir/texts/ID.txt           caption#word/POS ...#0.0#0.0 lines (captioned motions only)
    out_dir/{train,val,test,all}.txt  captioned motions, seeded 80/5/15 split (train never empty)
    out_dir/uncaptioned.txt        motions without a caption (features and joints only)
    out_dir/Mean.npy, Std.npy      (263,) the dataset's own statistics, or copied from `stats`
    out_dir/report.json            settings, per-motion details and physical checks, skipped files

Takes are kept whole: the training loader keeps a random 196-frame window of longer motions,
evaluation splits skip them (see docs/mocap.md). A take over the readers' limits
(`remodiffuse.io.mocap_clip`) or over MAX_OUTPUT_FRAMES once resampled is skipped before anything
is allocated for it.

out_dir is replaced whole, so prepare writes only to an empty or missing out_dir or to its own
previous output holding nothing but what prepare wrote (anything else: InputError naming it),
never to a folder holding the input. The new dataset is built in a staging folder beside out_dir
and swapped in when complete: a killed prepare leaves the previous output (and a `.NAME.tmp-*`
folder that the next prepare into the same out_dir removes).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.data.writing import split_ids
from remodiffuse.errors import InputError
from remodiffuse.files import atomic_directory
from remodiffuse.io.asf_amc import AMC_FPS, read_asf_amc
from remodiffuse.io.bvh import read_bvh
from remodiffuse.io.captions import caption_line, read_caption_csv, read_caption_txt
from remodiffuse.io.joint_map import BUILTIN_JOINT_MAPS, load_joint_map
from remodiffuse.io.mocap_clip import (
    MAX_FRAME_TIME,
    MIN_FRAME_TIME,
    MocapClip,
    MocapFormatError,
    check_positions,
)
from remodiffuse.io.prepared_folder import (
    LAYOUT,
    REPORT_FILE,
    check_input_outside,
    check_out_dir,
    exclusive,
    remove_leftovers,
)
from remodiffuse.io.retarget import (
    DropFirstFrame,
    Retargeted,
    resample,
    resampled_length,
    retarget_clip,
)
from remodiffuse.motion import features_from_joints, joints_from_features, mean_std
from remodiffuse.motion.plausibility import PhysicalLimits, physical_report

__all__ = [
    "MAX_OUTPUT_FRAMES",
    "REPORT_FILE",
    "ImportedMotion",
    "MotionSource",
    "find_motion_files",
    "format_summary",
    "import_motion",
    "prepare_dataset",
]

FEATURE_DIM = 263
MIN_FRAMES = 3  # at the output rate: features need 2, the physical checks 2 recovered frames
MAX_OUTPUT_FRAMES = 72_000  # an hour at 20 fps; the feature pipeline takes ~8 MB per 1000 frames
_LOADER_MIN, _LOADER_MAX = 40, 196  # the HumanML3D loaders' length filter (frames at 20 fps)
_MOTION_SUFFIXES = (".bvh", ".amc")


@dataclass(frozen=True)
class MotionSource:
    """One take to import: its id (file stem), motion file and, for AMC, its ASF skeleton."""

    motion_id: str
    path: Path
    skeleton: Path | None = None


@dataclass(frozen=True)
class ImportedMotion:
    """A take on the 22 HumanML3D joints at the output frame rate, before the feature pipeline."""

    joints: np.ndarray  # (T, 22, 3) float64 metres, Y up, lowest joint at y = 0
    source_frames: int
    retargeted: Retargeted  # detection results (its joints are at the source rate)


def _asf_for(amc: Path) -> Path | None:
    """The skeleton of an AMC take: SS.asf for CMU's SS_TT.amc, else STEM.asf, else the only
    .asf in the folder."""
    candidates = [amc.with_name(f"{amc.stem.split('_')[0]}.asf"), amc.with_suffix(".asf")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    others = sorted(amc.parent.glob("*.asf"))
    return others[0] if len(others) == 1 else None


def find_motion_files(path: str | Path) -> tuple[list[MotionSource], list[dict[str, str]]]:
    """Takes under `path` (a file or a folder searched recursively) and the files skipped on the
    way ({"path", "reason"}: an AMC without skeleton, a repeated id)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower()
                       in _MOTION_SUFFIXES and not p.name.startswith("."))  # fmt: skip
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"input {path} does not exist")
    sources: list[MotionSource] = []
    skipped: list[dict[str, str]] = []
    seen: dict[str, Path] = {}
    for file in files:
        suffix = file.suffix.lower()
        if suffix not in _MOTION_SUFFIXES:
            skipped.append({"path": str(file), "reason": "not a .bvh or .amc file"})
            continue
        if file.stem in seen:
            reason = f"duplicate motion id {file.stem!r} (first: {seen[file.stem]})"
            skipped.append({"path": str(file), "reason": reason})
            continue
        skeleton = _asf_for(file) if suffix == ".amc" else None
        if suffix == ".amc" and skeleton is None:
            reason = f"no ASF skeleton beside it ({file.stem.split('_')[0]}.asf or {file.stem}.asf)"
            skipped.append({"path": str(file), "reason": reason})
            continue
        seen[file.stem] = file
        sources.append(MotionSource(file.stem, file, skeleton))
    return sources, skipped


def _read_clip(source: MotionSource, amc_fps: float) -> MocapClip:
    """The take's clip (AMC files carry no frame rate: `amc_fps` is used)."""
    if source.skeleton is not None:
        return read_asf_amc(source.skeleton, source.path, fps=amc_fps)
    return read_bvh(source.path)


def import_motion(
    source: MotionSource | str | Path,
    joint_map: Mapping[str, Any] | str | Path | None = None,
    *,
    fps: float = 20.0,
    amc_fps: float = AMC_FPS,
    up_axis: str = "auto",
    drop_first_frame: DropFirstFrame = "auto",
) -> ImportedMotion:
    """Read one take and retarget it to the HumanML3D joints at `fps` (see `ImportedMotion`).

    Raises MocapFormatError (unreadable file, too few frames or more than MAX_OUTPUT_FRAMES at
    `fps`, checked before resampling) or JointMapError (unmapped joints).
    """
    if not isinstance(source, MotionSource):
        sources, skipped = find_motion_files(source)
        if skipped:
            raise MocapFormatError(skipped[0]["path"], skipped[0]["reason"])
        source = sources[0]
    clip = _read_clip(source, amc_fps)
    retargeted = retarget_clip(clip, joint_map, up_axis=up_axis, drop_first_frame=drop_first_frame)
    frames = resampled_length(retargeted.joints.shape[0], retargeted.fps, fps)
    if frames > MAX_OUTPUT_FRAMES:
        raise MocapFormatError(
            source.path,
            f"{frames} frames at {fps:g} fps, more than the {MAX_OUTPUT_FRAMES} allowed "
            f"(the file has {clip.num_frames} frames at {clip.fps:g} fps)",
        )
    if frames < MIN_FRAMES:
        raise MocapFormatError(
            source.path, f"too short: {frames} frames at {fps:g} fps (need {MIN_FRAMES})"
        )
    joints = resample(retargeted.joints, retargeted.fps, fps)  # (T', 22, 3)
    return ImportedMotion(check_positions(source.path, joints), clip.num_frames, retargeted)


def _captions_by_id(
    sources: list[MotionSource], captions: str | Path | None
) -> dict[str, list[str]]:
    """Captions per motion id: the CSV's (if any), then those of ID.txt beside each file."""
    table = read_caption_csv(captions) if captions is not None else {}
    merged: dict[str, list[str]] = {}
    for source in sources:
        texts = table.get(source.motion_id, []) + read_caption_txt(source.path.with_suffix(".txt"))
        merged[source.motion_id] = list(dict.fromkeys(texts))
    return merged


def _load_statistics(stats: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """None for "own", else (Mean, Std) (263,) float32 from the folder `stats`."""
    if str(stats) == "own":
        return None
    folder = Path(stats)
    arrays = []
    for name in ("Mean.npy", "Std.npy"):
        try:
            array = np.load(folder / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(
                f"stats={stats}: expected 'own' or a folder with Mean.npy and Std.npy ({exc})"
            ) from None
        if array.shape != (FEATURE_DIM,) or not np.isfinite(array).all():
            raise InputError(
                f"stats={stats}: {folder / name} must be a finite ({FEATURE_DIM},) array, "
                f"got shape {array.shape}"
            )
        if name == "Std.npy" and not (array > 0).all():
            raise InputError(f"stats={stats}: {folder / name} has channels whose std is not > 0")
        arrays.append(array.astype(np.float32))
    return arrays[0], arrays[1]


def _resolve_joint_map(joint_map: str | Path | None) -> Mapping[str, Any] | str | None:
    """A built-in map name as is, a YAML path loaded (and validated) once."""
    if joint_map is None or str(joint_map) in BUILTIN_JOINT_MAPS:
        return None if joint_map is None else str(joint_map)
    return load_joint_map(joint_map)


def _check_frame_rate(option: str, fps: float) -> None:
    """InputError unless 1 / MAX_FRAME_TIME <= fps <= 1 / MIN_FRAME_TIME."""
    low, high = 1 / MAX_FRAME_TIME, 1 / MIN_FRAME_TIME
    if not low <= fps <= high:
        raise InputError(f"{option}={fps:g}: allowed {low:g} .. {high:g} frames per second")


def _rounded(report: Mapping[str, float | bool]) -> dict[str, float | bool]:
    return {k: v if isinstance(v, bool) else round(float(v), 4) for k, v in report.items()}


def _skip_reason(error: Exception) -> str:
    """The reason report.json gives for a file that could not be imported."""
    if isinstance(error, MocapFormatError):
        return error.reason
    if isinstance(error, ValueError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"


def _import_one(
    source: MotionSource, joint_map: Mapping[str, Any] | str | None, options: Mapping[str, Any]
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """One take's report entry, (T-1, 263) features and (T-1, 22, 3) recovered joints."""
    imported = import_motion(source, joint_map, **options)
    features = features_from_joints(imported.joints)  # (T-1, 263)
    if not np.isfinite(features).all():
        raise MocapFormatError(source.path, "non-finite features (coordinates too large?)")
    recovered = joints_from_features(features)  # (T-1, 22, 3)
    retargeted = imported.retargeted
    entry = {
        "source": str(source.path),
        "source_frames": imported.source_frames,
        "source_fps": retargeted.fps,
        "frames": int(features.shape[0]),
        "joint_map": retargeted.joint_map,
        "metres_per_unit": retargeted.metres_per_unit,
        "up_axis": retargeted.up_axis,
        "dropped_first_frame": retargeted.dropped_first_frame,
        "physical": _rounded(physical_report(recovered, options["fps"])),
    }
    return entry, features, recovered


def _import_all(
    staging: Path,
    sources: list[MotionSource],
    captions_by_id: Mapping[str, list[str]],
    joint_map: Mapping[str, Any] | str | None,
    options: Mapping[str, Any],
    skipped: list[dict[str, str]],
) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Import every take into `staging`: ({id: report entry}, {id: (T-1, 263) features}); the
    files that fail are appended to `skipped`."""
    motions: dict[str, dict[str, Any]] = {}
    features_by_id: dict[str, np.ndarray] = {}
    for sub in LAYOUT:
        (staging / sub).mkdir()
    for source in sources:
        try:
            entry, features, recovered = _import_one(source, joint_map, options)
        except Exception as exc:  # noqa: BLE001 -- a bad file must never stop the import
            skipped.append({"path": str(source.path), "reason": _skip_reason(exc)})
            continue
        motion_id, texts = source.motion_id, captions_by_id[source.motion_id]
        np.save(staging / "new_joint_vecs" / f"{motion_id}.npy", features)
        np.save(staging / "new_joints" / f"{motion_id}.npy", recovered)
        if texts:
            lines = "".join(caption_line(text) + "\n" for text in texts)
            (staging / "texts" / f"{motion_id}.txt").write_text(lines, encoding="utf-8")
        features_by_id[motion_id] = features
        motions[motion_id] = {**entry, "captions": texts}
    return motions, features_by_id


def _write_statistics(
    staging: Path,
    pool: list[np.ndarray],
    given: tuple[np.ndarray, np.ndarray] | None,
    stats: str | Path,
) -> str:
    """Write Mean.npy / Std.npy (given, or of the (T, 263) features in `pool`); returns the note
    report.json keeps about them."""
    if given is not None:
        mean, std = given
        note = f"copied from {Path(stats).resolve()}"
    elif pool:
        mean, std = mean_std(pool, "humanml3d")
        note = "own: train split + uncaptioned motions (reference cal_mean_variance)"
        constant = np.flatnonzero(~(std > 0))
        if constant.size:  # the loaders refuse a zero std; these channels never vary here
            std[constant] = 1.0
            note += f"; std 1 for the {constant.size} constant channels {constant.tolist()}"
    else:
        return "none: no motion was imported"
    np.save(staging / "Mean.npy", mean.astype(np.float32))
    np.save(staging / "Std.npy", std.astype(np.float32))
    return note


def _write_lists_and_report(
    staging: Path,
    motions: dict[str, dict[str, Any]],
    features_by_id: Mapping[str, np.ndarray],
    skipped: list[dict[str, str]],
    given_stats: tuple[np.ndarray, np.ndarray] | None,
    input_path: Path,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The id lists (splits), statistics and report.json of the imported `motions`."""
    captioned = sorted(i for i in motions if motions[i]["captions"])
    uncaptioned = sorted(i for i in motions if not motions[i]["captions"])
    splits = split_ids(captioned, np.random.default_rng(settings["seed"]))
    for name, part in {**splits, "all": captioned, "uncaptioned": uncaptioned}.items():
        (staging / f"{name}.txt").write_text("".join(f"{i}\n" for i in part), encoding="utf-8")
        for motion_id in part if name != "all" else ():
            motions[motion_id]["split"] = name
    pool = [features_by_id[i] for i in splits["train"] + uncaptioned]
    report = {
        "input": str(input_path.expanduser().resolve()),
        "settings": dict(settings),
        "statistics": _write_statistics(staging, pool, given_stats, settings["stats"]),
        "imported": len(motions),
        "uncaptioned": len(uncaptioned),
        "skipped": len(skipped),
        "splits": {name: len(part) for name, part in splits.items()},
        "physical_limits": vars(PhysicalLimits()),
        "physical_failed": sorted(i for i in motions if not motions[i]["physical"]["passed"]),
        "motions": motions,
        "skipped_files": skipped,
    }
    text = json.dumps(report, indent=1, sort_keys=True)
    (staging / REPORT_FILE).write_text(text + "\n", encoding="utf-8")
    return report


def prepare_dataset(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    captions: str | Path | None = None,
    joint_map: str | Path | None = None,
    fps: float = 20.0,
    amc_fps: float = AMC_FPS,
    up_axis: str = "auto",
    drop_first_frame: DropFirstFrame = "auto",
    stats: str | Path = "own",
    seed: int = 0,
) -> dict[str, Any]:
    """Import every take under `input_path` into a HumanML3D-layout dataset at `out_dir`.

    Bad files are skipped with a reason; raises InputError only for bad settings (missing input,
    unreadable captions / joint map / statistics, frame rates out of range, an out_dir that holds
    the input or anything prepare did not write). Returns the report also written to
    out_dir/report.json.
    """
    input_path, out_dir = Path(input_path), Path(out_dir).expanduser().resolve()
    _check_frame_rate("fps", fps)
    _check_frame_rate("amc_fps", amc_fps)
    check_input_outside(input_path, out_dir)
    sources, skipped = find_motion_files(input_path.expanduser())
    resolved_map = _resolve_joint_map(joint_map)
    given_stats = _load_statistics(stats)
    captions_by_id = _captions_by_id(sources, captions)
    options = {"fps": fps, "amc_fps": amc_fps, "up_axis": up_axis,
               "drop_first_frame": drop_first_frame}  # fmt: skip
    settings = {"captions": None if captions is None else str(captions),
                "joint_map": None if joint_map is None else str(joint_map),
                **options, "stats": str(stats), "seed": seed}  # fmt: skip
    with exclusive(out_dir):
        check_out_dir(out_dir)
        with atomic_directory(out_dir) as staging:
            imported = _import_all(staging, sources, captions_by_id, resolved_map, options, skipped)
            report = _write_lists_and_report(
                staging, *imported, skipped, given_stats, input_path, settings
            )
            check_out_dir(out_dir)  # nothing was added to out_dir meanwhile
        remove_leftovers(out_dir)
    return report


def format_summary(report: Mapping[str, Any], out_dir: str | Path) -> str:
    """Human-readable summary of a `prepare_dataset` report."""
    motions = report["motions"]
    lines = [
        f"prepare: {report['imported']} motions imported ({report['uncaptioned']} without a "
        f"caption), {report['skipped']} files skipped -> {out_dir}",
        "splits: " + ", ".join(f"{k} {v}" for k, v in report["splits"].items())
        + f"; statistics: {report['statistics']}",
    ]  # fmt: skip
    if motions:
        frames = [m["frames"] for m in motions.values()]
        long = sum(f > _LOADER_MAX for f in frames)
        short = sorted(i for i, m in motions.items() if m["frames"] < _LOADER_MIN)
        lines.append(
            f"frames at {report['settings']['fps']:g} fps: min {min(frames)}, median "
            f"{statistics.median(frames):g}, max {max(frames)}; {long} longer than {_LOADER_MAX} "
            f"(kept whole), {len(short)} shorter than {_LOADER_MIN}"
            + (f" ({', '.join(short)}: the loaders skip them)" if short else "")
        )
        physical = [m["physical"] for m in motions.values()]
        worst = {key: max(p[key] for p in physical) for key in physical[0] if key != "passed"}
        lines.append(
            f"physical checks: {len(motions) - len(report['physical_failed'])} / {len(motions)} "
            "passed; worst " + ", ".join(f"{k} {v:g}" for k, v in worst.items())
        )
        limits = report["physical_limits"]
        for motion_id in report["physical_failed"]:
            p = motions[motion_id]["physical"]
            over = [
                f"{key} {p[key]:g}"
                for key, limit in (("bone_length_variation", "bone_length_variation"),
                                   ("toe_slide_fraction", "toe_slide_fraction"),
                                   ("max_joint_speed", "joint_speed"),
                                   ("penetration", "penetration"))
                if p[key] >= limits[limit]
            ]  # fmt: skip
            lines.append(f"  failed {motion_id}: {', '.join(over)}")
    for entry in report["skipped_files"]:
        lines.append(f"  skipped {entry['path']}: {entry['reason']}")
    return "\n".join(lines)
