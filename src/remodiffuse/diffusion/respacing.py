"""Which original timesteps a shorter sampling schedule keeps, and their cumulative alphas."""

import re

import numpy as np

from remodiffuse.errors import InputError

_NAMED = re.compile(r"(ddim|logsnr)(\d+)")


def respaced_timesteps(
    num_timesteps: int, spacing: int | str, alphas_cumprod: np.ndarray | None = None
) -> np.ndarray:
    """Kept original timesteps, ascending int64.

    spacing: an int N or "N" (N evenly spaced steps from 0 to T-1), "ddimN" (stride T // N from
    0, as in DDIM), "logsnrN" (N steps evenly spaced in log-SNR, needs alphas_cumprod; suits
    DPM-Solver++), or section counts like "15,15,8,6,6" (T split into equal sections; in each,
    n steps at fractional stride (size-1)/(n-1), accumulated then rounded).
    """
    if isinstance(spacing, bool) or not isinstance(spacing, int | str):
        raise InputError(f"spacing must be an int or a string, got {spacing!r}")
    if isinstance(spacing, str):
        text = spacing.strip().replace(" ", "")
        match = _NAMED.fullmatch(text)
        if match and match.group(1) == "ddim":
            return _ddim_stride(num_timesteps, int(match.group(2)))
        if match:
            if alphas_cumprod is None or len(alphas_cumprod) != num_timesteps:
                raise InputError(f"{text} needs the {num_timesteps} alphas_cumprod of the schedule")
            return _log_snr_uniform(alphas_cumprod, int(match.group(2)))
        try:
            counts = [int(part) for part in text.split(",")]
        except ValueError:
            raise InputError(
                f"spacing {spacing!r} is not a count, 'ddimN', 'logsnrN' or comma-separated counts"
            ) from None
        return _sections(num_timesteps, counts)
    return _sections(num_timesteps, [spacing])


def _ddim_stride(num_timesteps: int, count: int) -> np.ndarray:
    """0, s, 2s, ... with integer stride s = T // count (count steps)."""
    if not 1 <= count <= num_timesteps:
        raise InputError(f"ddim{count}: need 1 <= steps <= {num_timesteps}")
    stride = num_timesteps // count
    return np.arange(count, dtype=np.int64) * stride


def _log_snr_uniform(alphas_cumprod: np.ndarray, count: int) -> np.ndarray:
    """The timesteps nearest to count log-SNR values evenly spaced from t = T-1 to t = 0."""
    if count < 1:
        raise InputError(f"logsnr{count}: need at least 1 step")
    log_snr = np.log(alphas_cumprod) - np.log1p(-alphas_cumprod)  # (T,) decreasing in t
    targets = np.linspace(log_snr[-1], log_snr[0], count)  # (count,)
    kept = np.unique(np.abs(log_snr[None, :] - targets[:, None]).argmin(axis=1))
    if kept.size != count:
        raise InputError(f"logsnr{count}: only {kept.size} distinct timesteps, use fewer steps")
    return kept.astype(np.int64)


def _sections(num_timesteps: int, counts: list[int]) -> np.ndarray:
    """Section respacing (improved-DDPM convention); the first sections take the remainder."""
    size, extra = divmod(num_timesteps, len(counts))
    kept: list[int] = []
    start = 0
    for i, count in enumerate(counts):
        section = size + (1 if i < extra else 0)
        if not 1 <= count <= section:
            raise InputError(f"section {i} has {section} timesteps, cannot keep {count}")
        stride = 1.0 if count == 1 else (section - 1) / (count - 1)
        position = 0.0
        for _ in range(count):
            kept.append(start + round(position))
            position += stride
        start += section
    return np.asarray(kept, dtype=np.int64)


def respaced_alphas_cumprod(
    alphas_cumprod: np.ndarray, timesteps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """abar and abar_prev (1.0 first) at ascending kept timesteps, float64, shape (S,) each.

    Rebuilt as the cumulative product of the respaced betas 1 - abar_k / abar_{k-1}, which is
    how the released sampler computes them (equal to alphas_cumprod[timesteps] up to ~1e-19).
    """
    if np.any(np.diff(timesteps) <= 0):
        raise InputError("timesteps must be strictly ascending")
    kept = alphas_cumprod[timesteps]  # (S,)
    betas = 1.0 - kept / np.append(1.0, kept[:-1])  # (S,) respaced betas
    abar = np.cumprod(1.0 - betas)
    return abar, np.append(1.0, abar[:-1])
