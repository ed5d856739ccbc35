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
evaluation splits skip them (see docs/mocap.md).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from remodiffuse.data.writing import replace_directory, split_ids
from remodiffuse.io.asf_amc import AMC_FPS, read_asf_amc
from remodiffuse.io.bvh import read_bvh
from remodiffuse.io.captions import caption_line, read_caption_csv, read_caption_txt
from remodiffuse.io.joint_map import BUILTIN_JOINT_MAPS, JointMapError, load_joint_map
from remodiffuse.io.mocap_clip import MocapClip, MocapFormatError
from remodiffuse.io.retarget import DropFirstFrame, Retargeted, resample, retarget_clip
from remodiffuse.motion import features_from_joints, joints_from_features, mean_std
from remodiffuse.motion.plausibility import PhysicalLimits, physical_report

__all__ = [
    "REPORT_FILE",
    "ImportedMotion",
    "MotionSource",
    "find_motion_files",
    "format_summary",
    "import_motion",
    "prepare_dataset",
]

REPORT_FILE = "report.json"
FEATURE_DIM = 263
MIN_FRAMES = 3  # at the output rate: features need 2, the physical checks 2 recovered frames
_LOADER_MIN, _LOADER_MAX = 40, 196  # the HumanML3D loaders' length filter (frames at 20 fps)
_MOTION_SUFFIXES = (".bvh", ".amc")
_LAYOUT = ("new_joint_vecs", "new_joints", "texts")


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
        raise FileNotFoundError(f"input {path} does not exist")
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

    Raises MocapFormatError (unreadable file, too few frames) or JointMapError (unmapped joints).
    """
    if not isinstance(source, MotionSource):
        sources, skipped = find_motion_files(source)
        if skipped:
            raise MocapFormatError(skipped[0]["path"], skipped[0]["reason"])
        source = sources[0]
    clip = _read_clip(source, amc_fps)
    retargeted = retarget_clip(clip, joint_map, up_axis=up_axis, drop_first_frame=drop_first_frame)
    joints = resample(retargeted.joints, retargeted.fps, fps)  # (T', 22, 3)
    if joints.shape[0] < MIN_FRAMES:
        raise MocapFormatError(
            source.path, f"too short: {joints.shape[0]} frames at {fps:g} fps (need {MIN_FRAMES})"
        )
    return ImportedMotion(joints, clip.num_frames, retargeted)


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
            raise FileNotFoundError(
                f"stats={stats}: expected 'own' or a folder with Mean.npy and Std.npy ({exc})"
            ) from None
        if array.shape != (FEATURE_DIM,) or not np.isfinite(array).all():
            raise ValueError(f"{folder / name} must be a finite ({FEATURE_DIM},) array")
        arrays.append(array.astype(np.float32))
    return arrays[0], arrays[1]


def _resolve_joint_map(joint_map: str | Path | None) -> Mapping[str, Any] | str | None:
    """A built-in map name as is, a YAML path loaded (and validated) once."""
    if joint_map is None or str(joint_map) in BUILTIN_JOINT_MAPS:
        return None if joint_map is None else str(joint_map)
    return load_joint_map(joint_map)


def _prepare_out_dir(out_dir: Path) -> Path:
    """A fresh staging folder beside out_dir; refuse an out_dir that is not a previous import."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / REPORT_FILE).is_file():
        raise FileExistsError(
            f"{out_dir} is not empty and holds no {REPORT_FILE} from a previous import; "
            "choose another out_dir or remove it"
        )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    for sub in _LAYOUT:
        (staging / sub).mkdir(parents=True)
    return staging


def _rounded(report: Mapping[str, float | bool]) -> dict[str, float | bool]:
    return {k: v if isinstance(v, bool) else round(float(v), 4) for k, v in report.items()}


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

    Bad files are skipped with a reason; raises only for bad settings (missing input, unreadable
    captions / joint map / statistics, an out_dir that is not a previous import). Returns the
    report also written to out_dir/report.json.
    """
    out_dir = Path(out_dir).expanduser().resolve()
    sources, skipped = find_motion_files(Path(input_path).expanduser())
    resolved_map = _resolve_joint_map(joint_map)
    given_stats = _load_statistics(stats)
    captions_by_id = _captions_by_id(sources, captions)
    staging = _prepare_out_dir(out_dir)
    try:
        motions: dict[str, dict[str, Any]] = {}
        features_by_id: dict[str, np.ndarray] = {}
        for source in sources:
            try:
                imported = import_motion(
                    source, resolved_map, fps=fps, amc_fps=amc_fps, up_axis=up_axis,
                    drop_first_frame=drop_first_frame,
                )  # fmt: skip
                features = features_from_joints(imported.joints)  # (T-1, 263)
            except (MocapFormatError, JointMapError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, MocapFormatError) else str(exc)
                skipped.append({"path": str(source.path), "reason": reason})
                continue
            except Exception as exc:  # noqa: BLE001 -- a bad file must never stop the import
                reason = f"unexpected {type(exc).__name__}: {exc}"
                skipped.append({"path": str(source.path), "reason": reason})
                continue
            recovered = joints_from_features(features)  # (T-1, 22, 3)
            np.save(staging / "new_joint_vecs" / f"{source.motion_id}.npy", features)
            np.save(staging / "new_joints" / f"{source.motion_id}.npy", recovered)
            texts = captions_by_id[source.motion_id]
            if texts:
                lines = "".join(caption_line(text) + "\n" for text in texts)
                (staging / "texts" / f"{source.motion_id}.txt").write_text(lines, encoding="utf-8")
            features_by_id[source.motion_id] = features
            retargeted = imported.retargeted
            motions[source.motion_id] = {
                "source": str(source.path),
                "source_frames": imported.source_frames,
                "source_fps": retargeted.fps,
                "frames": int(features.shape[0]),
                "joint_map": retargeted.joint_map,
                "metres_per_unit": retargeted.metres_per_unit,
                "up_axis": retargeted.up_axis,
                "dropped_first_frame": retargeted.dropped_first_frame,
                "captions": texts,
                "physical": _rounded(physical_report(recovered, fps)),
            }
        captioned = sorted(i for i in motions if motions[i]["captions"])
        uncaptioned = sorted(i for i in motions if not motions[i]["captions"])
        splits = split_ids(captioned, np.random.default_rng(seed))
        for name, part in {**splits, "all": captioned, "uncaptioned": uncaptioned}.items():
            text = "".join(f"{i}\n" for i in part)
            (staging / f"{name}.txt").write_text(text, encoding="utf-8")
            for motion_id in part if name != "all" else ():
                motions[motion_id]["split"] = name
        if given_stats is not None:
            mean, std = given_stats
            statistics_note = f"copied from {Path(stats).resolve()}"
        elif motions:
            pool = splits["train"] + uncaptioned
            mean, std = mean_std([features_by_id[i] for i in pool], "humanml3d")
            statistics_note = "own: train split + uncaptioned motions (reference cal_mean_variance)"
        else:
            mean = std = None
            statistics_note = "none: no motion was imported"
        if mean is not None:
            np.save(staging / "Mean.npy", mean.astype(np.float32))
            np.save(staging / "Std.npy", std.astype(np.float32))
        report = {
            "input": str(Path(input_path).expanduser().resolve()),
            "settings": {
                "captions": None if captions is None else str(captions),
                "joint_map": None if joint_map is None else str(joint_map),
                "fps": fps,
                "amc_fps": amc_fps,
                "up_axis": up_axis,
                "drop_first_frame": drop_first_frame,
                "stats": str(stats),
                "seed": seed,
            },  # fmt: skip
            "statistics": statistics_note,
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
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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
