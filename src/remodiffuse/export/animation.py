"""3D stick-figure animations of joint positions, drawn with matplotlib, written as mp4 or gif."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mpl_toolkits.mplot3d import proj3d
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

from remodiffuse.errors import InputError, MissingFileError
from remodiffuse.files import atomic_path
from remodiffuse.motion import Skeleton, get_skeleton, joints_from_features

if TYPE_CHECKING:
    import torch

__all__ = ["load_motion_file", "render_motion"]

log = logging.getLogger(__name__)

_LEFT_LEG, _LEFT_ARM = "#1f5fbf", "#5aa9e6"  # blues
_RIGHT_LEG, _RIGHT_ARM = "#c62828", "#f39c12"  # red / orange
_CENTRE = "#3a3a3a"
_FLOOR, _GRID, _PATH, _TRAIL, _SHADOW = "#eef0f3", "#c3c8d0", "#c9cdd4", "#2e7d32", "#b9bec6"
_TITLE_FONTSIZE = 11.0


def render_motion(
    joints: np.ndarray | torch.Tensor,
    out_path: str | Path,
    skeleton: str | Skeleton = "humanml3d",
    fps: float | None = None,
    title: str | None = None,
    *,
    size: int | tuple[int, int] = 480,
    dpi: int = 100,
    elev: float = 20.0,
    azim: float = -70.0,
) -> Path:
    """Render joint positions (T, J, 3), Y up, as a stick-figure video; return the path written.

    `.mp4` needs ffmpeg (falls back to `.gif` with a warning); `.gif` works without it.
    """
    skel = get_skeleton(skeleton)
    positions = _validate_joints(joints, skel)  # (T, J, 3)
    path = _output_path(Path(out_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = float(fps) if fps is not None else float(skel.fps)
    if rate <= 0:
        raise InputError(f"fps must be positive, got {fps}")
    width, height = (size, size) if isinstance(size, int) else size
    scene = _Scene(positions, skel, title, width, height, dpi, elev, azim, rate)
    with atomic_path(path) as temporary, _frame_writer(temporary, rate) as write:
        for frame in scene.frames():
            write(frame)
    return path


def load_motion_file(
    path: str | Path,
    skeleton: str | Skeleton | None = None,
    mean: str | Path | np.ndarray | None = None,
    std: str | Path | np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """Load a .npy of joints (T, J, 3) or features (T, 263|251); return joints and skeleton name.

    The kind and skeleton are detected from the shape; `mean`/`std` denormalise features first.
    """
    path = Path(path)
    array = _load_array(path)
    if array.ndim == 4 or (array.ndim == 3 and array.shape[-1] != 3):
        array = _drop_batch_axis(array, path)
    if array.ndim == 3 and array.shape[-1] == 3:
        if mean is not None or std is not None:
            raise InputError(f"{path}: mean/std only apply to features, but the file holds joints")
        skel = _skeleton_for(path, skeleton, array.shape, "joints")
        return _validate_joints(array, skel, source=path), skel.name
    if array.ndim == 2:
        skel = _skeleton_for(path, skeleton, array.shape, "features")
        features = _denormalise(array.astype(np.float64), mean, std, path)  # (T, D)
        joints = np.asarray(joints_from_features(features, skeleton=skel.name))  # (T, J, 3)
        return joints, skel.name
    raise InputError(
        f"{path}: unrecognised motion shape {array.shape}; expected joints (T, J, 3) or "
        "features (T, 263) for humanml3d / (T, 251) for kit"
    )


def chain_colours(skeleton: Skeleton) -> list[str]:
    """One colour per kinematic chain: blues on the left, reds on the right, grey in the middle."""
    r_hip, l_hip, r_shoulder, l_shoulder = skeleton.face_joints
    by_joint = {l_hip: _LEFT_LEG, l_shoulder: _LEFT_ARM, r_hip: _RIGHT_LEG, r_shoulder: _RIGHT_ARM}
    colours = []
    for chain in skeleton.kinematic_chain:
        found = [by_joint[j] for j in chain if j in by_joint]
        colours.append(found[0] if found else _CENTRE)
    return colours


def _validate_joints(joints: Any, skeleton: Skeleton, source: Path | None = None) -> np.ndarray:
    """Return joints as a float64 (T, J, 3) array, or raise a ValueError naming the problem."""
    if hasattr(joints, "detach"):
        joints = joints.detach().cpu().numpy()
    array = np.asarray(joints, dtype=np.float64)
    prefix = f"{source}: " if source is not None else ""
    expected = f"(T, {skeleton.num_joints}, 3) for skeleton {skeleton.name!r}"
    if array.ndim != 3 or array.shape[1:] != (skeleton.num_joints, 3) or array.shape[0] < 1:
        raise InputError(f"{prefix}joints must have shape {expected}, got {array.shape}")
    if not np.isfinite(array).all():
        raise InputError(f"{prefix}joints contain NaN or infinite values")
    return array


def _load_array(path: Path) -> np.ndarray:
    """np.load a .npy file, with errors that name the file."""
    if not path.is_file():
        raise MissingFileError(f"motion file not found: {path}")
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable .npy array ({error})") from error
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.number):
        raise InputError(f"{path}: expected a numeric .npy array, got {type(array).__name__}")
    return array


def _drop_batch_axis(array: np.ndarray, path: Path) -> np.ndarray:
    """Drop a leading batch axis of size one, e.g. (1, T, 263) -> (T, 263)."""
    if array.shape[0] != 1:
        raise InputError(
            f"{path}: holds a batch of {array.shape[0]} motions {array.shape}; "
            "render one motion at a time"
        )
    return array[0]


def _skeleton_for(
    path: Path, requested: str | Skeleton | None, shape: tuple[int, ...], kind: str
) -> Skeleton:
    """The requested skeleton (checked against the data) or the one whose size matches."""
    names = [requested] if requested is not None else ["humanml3d", "kit"]
    candidates = [get_skeleton(name) for name in names]
    expected = {
        s.name: (s.num_joints, 3) if kind == "joints" else (s.feature_dim,) for s in candidates
    }
    for skel in candidates:
        if shape[1:] == expected[skel.name]:
            return skel
    wanted = ", ".join(f"(T, {', '.join(map(str, e))}) for {n}" for n, e in expected.items())
    raise InputError(f"{path}: {kind} of shape {shape} fit no skeleton; expected {wanted}")


def _denormalise(features: np.ndarray, mean: Any, std: Any, path: Path) -> np.ndarray:
    """Undo z-normalisation, features * std + mean, when both statistics are given."""
    if mean is None and std is None:
        return features
    if mean is None or std is None:
        raise InputError(f"{path}: denormalising needs both mean and std")
    stats = [
        _load_array(Path(s)) if isinstance(s, str | Path) else np.asarray(s) for s in (mean, std)
    ]
    for stat in stats:
        if stat.shape != features.shape[-1:]:
            raise InputError(
                f"{path}: mean/std shape {stat.shape} does not match features {features.shape}"
            )
    return features * stats[1] + stats[0]


def _output_path(path: Path) -> Path:
    """The path to write: `.gif` as asked, `.mp4` if ffmpeg is available, else `.gif` instead."""
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise InputError(f"unsupported video format {path.suffix!r} for {path}; use .mp4 or .gif")
    if suffix == ".mp4" and not _ffmpeg_available():
        fallback = path.with_suffix(".gif")
        log.warning("ffmpeg is unavailable: writing %s instead of %s", fallback, path)
        return fallback
    return path


def _ffmpeg_available() -> bool:
    """Whether imageio-ffmpeg can find an ffmpeg binary."""
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return False
    return True


@contextmanager
def _frame_writer(path: Path, fps: float) -> Iterator[Callable[[np.ndarray], None]]:
    """Yield a function that appends (H, W, 3) uint8 frames to an mp4 (libx264) or gif file."""
    if path.suffix.lower() == ".gif":
        with iio.imopen(path, "w", plugin="pillow") as gif:
            yield lambda frame: gif.write(frame, duration=1000.0 / fps, loop=0)
        return
    stream: Any = None

    def write(frame: np.ndarray) -> None:
        nonlocal stream
        if stream is None:
            height, width = frame.shape[:2]
            stream = imageio_ffmpeg.write_frames(
                str(path),
                (width, height),
                fps=fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=7,
                macro_block_size=2,
                ffmpeg_log_level="error",
                output_params=["-movflags", "+faststart"],
            )
            stream.send(None)
        stream.send(np.ascontiguousarray(frame))

    try:
        yield write
    finally:
        if stream is not None:
            stream.close()


@dataclass(frozen=True)
class _View:
    """Where the camera looks: a square of floor around a per-frame centre, and a height."""

    centres: np.ndarray  # (T, 2) ground (x, z) of the view centre
    half: float  # half side of the floor square shown
    top: float  # highest joint above the floor
    grid_step: float


def _plan_view(joints: np.ndarray, fps: float) -> _View:
    """Frame the whole motion if it stays within about a body height, otherwise follow the root."""
    root = joints[:, 0, [0, 2]]  # (T, 2)
    top = float(joints[..., 1].max())
    reach = float(np.linalg.norm(joints[..., [0, 2]] - root[:, None], axis=-1).max())
    body = max(top, 2.0 * reach) or 1.0
    half = max(1.05 * reach, 0.4 * body)
    travel = float((root.max(axis=0) - root.min(axis=0)).max())
    if travel <= body:
        centre = 0.5 * (root.max(axis=0) + root.min(axis=0))
        centres = np.broadcast_to(centre, root.shape)
        half += 0.5 * travel
    else:
        centres = _smooth(root, window=max(1, round(fps / 2)))
    return _View(centres, half, top or body, _nice_step(2.0 * half / 6.0))


def _smooth(points: np.ndarray, window: int) -> np.ndarray:
    """Moving average along time with edge padding; (T, C) -> (T, C)."""
    padded = np.pad(points, ((window, window), (0, 0)), mode="edge")
    kernel = np.ones(2 * window + 1) / (2 * window + 1)
    return np.stack(
        [np.convolve(padded[:, c], kernel, mode="valid") for c in range(points.shape[1])], axis=1
    )


def _nice_step(raw: float) -> float:
    """Smallest of 1, 2, 5 x 10^k that is at least `raw`."""
    base = 10.0 ** np.floor(np.log10(raw))
    return next(m * base for m in (1.0, 2.0, 5.0, 10.0) if m * base >= raw)


def _to_plot(points: np.ndarray) -> np.ndarray:
    """Y-up data (x, y, z) -> matplotlib's Z-up axes as (x, -z, y), a proper rotation."""
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _square(cx: float, cz: float, half: float, y: float) -> np.ndarray:
    """Corners (4, 3) of a horizontal square in data coordinates."""
    return np.array(
        [
            [cx - half, y, cz - half],
            [cx + half, y, cz - half],
            [cx + half, y, cz + half],
            [cx - half, y, cz + half],
        ]
    )


def _with_gaps(chains: list[np.ndarray]) -> np.ndarray:
    """Concatenate polylines (N_i, 3) into one, separated by NaN rows so they are not joined."""
    gap = np.full((1, 3), np.nan)
    return np.concatenate([part for chain in chains for part in (chain, gap)])


class _Scene:
    """One reused figure whose artists are updated in place for every frame."""

    def __init__(
        self,
        joints: np.ndarray,
        skeleton: Skeleton,
        title: str | None,
        width: int,
        height: int,
        dpi: int,
        elev: float,
        azim: float,
        fps: float,
    ) -> None:
        self.joints = joints - np.array([0.0, joints[..., 1].min(), 0.0])  # (T, J, 3), floor y=0
        self.chains = [list(chain) for chain in skeleton.kinematic_chain]
        self.view = _plan_view(self.joints, fps)
        self.size = (width - width % 2, height - height % 2)
        self.fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0), projection="3d")
        self._setup_axes(elev, azim)
        self.camera = np.array(
            [
                np.cos(np.radians(elev)) * np.cos(np.radians(azim)),
                np.cos(np.radians(elev)) * np.sin(np.radians(azim)),
                np.sin(np.radians(elev)),
            ]
        )  # direction towards the viewer
        self._add_artists(chain_colours(skeleton))
        self._update(0)
        self._fit_axes(self._add_title(title, width, height, dpi))

    def _add_title(self, title: str | None, width: int, height: int, dpi: int) -> float:
        """Write the wrapped caption at the top; return the pixel height left below it."""
        if not title:
            return float(height)
        char_px = 0.55 * _TITLE_FONTSIZE * dpi / 72.0
        text = textwrap.fill(title, width=max(10, int(0.92 * width / char_px)))
        self.fig.text(
            0.5,
            1.0 - 8.0 / height,
            text,
            ha="center",
            va="top",
            fontsize=_TITLE_FONTSIZE,
            color="#222222",
        )
        lines = text.count("\n") + 1
        return height - (lines * 1.25 * _TITLE_FONTSIZE * dpi / 72.0 + 12.0)

    def _setup_axes(self, elev: float, azim: float) -> None:
        """Fixed camera angle, equal scale on all axes, no panes or ticks."""
        ax, view = self.ax, self.view
        ax.view_init(elev=elev, azim=azim)
        ax.set_box_aspect((2 * view.half, 2 * view.half, view.top))
        ax.set_axis_off()
        ax.computed_zorder = False
        ax.set_zlim3d(0.0, view.top)

    def _fit_axes(self, usable_height: float) -> None:
        """Scale and move the square axes so the floor and the body fill the frame below the title.

        Projects the floor square and every joint as seen from frame 0's camera, a tighter fit
        than matplotlib's own fit of the whole (empty-topped) view box.
        """
        view = self.view
        following = self.joints - np.insert(view.centres - view.centres[0], 1, 0.0, axis=1)[:, None]
        content = np.concatenate(
            [_square(*view.centres[0], view.half, 0.0), following.reshape(-1, 3)]
        )  # (4 + T * J, 3)
        self.ax.apply_aspect()
        xs, ys, _ = proj3d.proj_transform(*_to_plot(content).T, self.ax.get_proj())
        pixels = self.ax.transData.transform(np.column_stack([xs, ys]))  # (N, 2)
        lo, hi = pixels.min(axis=0), pixels.max(axis=0)
        width, height = self.fig.bbox.width, self.fig.bbox.height
        margin = 0.03 * min(width, height)
        target = np.array([width - 2 * margin, usable_height - 2 * margin])
        scale = float(np.min(target / (hi - lo)))
        box = self.ax.get_position(original=False).transformed(self.fig.transFigure)
        origin = np.array([width / 2, usable_height / 2]) - scale * ((lo + hi) / 2 - box.p0)
        side = scale * np.array([box.width, box.height])
        self.ax.set_position((*(origin / [width, height]), *(side / [width, height])))

    def _add_artists(self, colours: list[str]) -> None:
        """Create the floor, grid, path, shadow and limb artists once."""
        ax = self.ax
        self.floor = Poly3DCollection(
            [np.zeros((4, 3))], facecolor=_FLOOR, edgecolor="none", zorder=0
        )
        self.grid = Line3DCollection([], colors=_GRID, linewidths=0.8, zorder=1)
        ax.add_collection3d(self.floor, autolim=False)
        ax.add_collection3d(self.grid, autolim=False)
        self.path = _to_plot(self.joints[:, 0] * np.array([1.0, 0.0, 1.0]))  # (T, 3) on the floor
        ax.plot(*self.path.T, color=_PATH, linewidth=1.2, linestyle="--", zorder=2, axlim_clip=True)
        (self.trail,) = ax.plot([], [], [], color=_TRAIL, linewidth=2.0, zorder=3, axlim_clip=True)
        (self.shadow,) = ax.plot(
            [], [], [], color=_SHADOW, linewidth=3.0, zorder=4, solid_capstyle="round"
        )
        self.limbs = [
            ax.plot(
                [],
                [],
                [],
                color=c,
                linewidth=3.5,
                solid_capstyle="round",
                marker="o",
                markersize=2.5,
            )[0]
            for c in colours
        ]

    def frames(self) -> Iterator[np.ndarray]:
        """Yield every frame as an (H, W, 3) uint8 image."""
        width, height = self.size
        for t in range(len(self.joints)):
            self._update(t)
            self.canvas.draw()
            yield np.asarray(self.canvas.buffer_rgba())[:height, :width, :3].copy()

    def _update(self, t: int) -> None:
        """Move the camera, floor and figure to frame t."""
        cx, cz = self.view.centres[t]
        half = self.view.half
        self.ax.set_xlim3d(cx - half, cx + half)
        self.ax.set_ylim3d(-cz - half, -cz + half)
        self.floor.set_verts([_to_plot(_square(cx, cz, half, 0.0))])
        self.grid.set_segments(self._grid_segments(cx, cz))
        self.trail.set_data_3d(*self.path[: t + 1].T)
        pose = _to_plot(self.joints[t])  # (J, 3)
        flat = pose * np.array([1.0, 1.0, 0.0])  # (J, 3) projected onto the floor
        self.shadow.set_data_3d(*_with_gaps([flat[chain] for chain in self.chains]).T)
        depth = [float(pose[chain].mean(axis=0) @ self.camera) for chain in self.chains]
        for rank, index in enumerate(np.argsort(depth)):
            limb, chain = self.limbs[index], self.chains[index]
            limb.set_data_3d(*pose[chain].T)
            limb.set_zorder(5 + rank)

    def _grid_segments(self, cx: float, cz: float) -> list[np.ndarray]:
        """Floor grid lines at multiples of the grid step inside the visible square."""
        half, step = self.view.half, self.view.grid_step
        xs = np.arange(np.ceil((cx - half) / step) * step, cx + half, step)
        zs = np.arange(np.ceil((cz - half) / step) * step, cz + half, step)
        segments = [[[x, 0.0, cz - half], [x, 0.0, cz + half]] for x in xs]
        segments += [[[cx - half, 0.0, z], [cx + half, 0.0, z]] for z in zs]
        return list(_to_plot(np.array(segments).reshape(-1, 2, 3)))  # (L, 2, 3)
