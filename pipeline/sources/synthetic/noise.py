"""Deterministic randomness for the simulator: counter-based hashes, smooth noise, AR noise.

Responsibility: every random number of the simulated market, as a pure function of its indices.
No state is carried between calls and nothing is seeded by call order. Every random number is a
counter-based hash of (seed, stream name, integer indices such as a knot number, a day ordinal or a
five-minute interval number); the per-stream key comes from ``numpy.random.SeedSequence`` with
integer entropy (the seed and a blake2b id of the stream name -- never Python's randomised
``hash``). So any day can be generated alone, in any order, in any process, with identical results.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable

import numpy as np

# splitmix64 finaliser: a bijective, well-mixing map of 64-bit words, vectorised over numpy arrays
# (uint64 arithmetic wraps modulo 2**64 by design).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_PI = 2.0 * math.pi


def _mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


@functools.lru_cache(maxsize=8192)
def stream_key(seed: int, stream: str) -> int:
    """The 64-bit key of one named random stream: stable across processes, platforms and runs."""
    stream_id = int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=8).digest(), "little")
    state = np.random.SeedSequence([seed, stream_id]).generate_state(1, dtype=np.uint64)
    return int(state[0])


def _hash(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """64-bit hash of (key, indices...) elementwise; indices broadcast against each other."""
    arrays = np.broadcast_arrays(*[np.atleast_1d(np.asarray(i)) for i in indices])
    h = np.full(arrays[0].shape, key, dtype=np.uint64)
    for index in arrays:
        h = _mix64(h + index.astype(np.int64).astype(np.uint64) * _GOLDEN)
    return h


def uniform(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """Uniform (0, 1) per index tuple."""
    return ((_hash(key, *indices) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normal(key: int, *indices: np.ndarray | float | int) -> np.ndarray:
    """Standard normal per index tuple (Box-Muller on the two 32-bit halves of one hash)."""
    h = _hash(key, *indices)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = ((h & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) * 2.0**-32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(_TWO_PI * u2)


def smooth_noise(key: int, t: np.ndarray, spacing_h: float, *extra: np.ndarray | int) -> np.ndarray:
    """A smooth N(0, 1) process of time: normals at knots every ``spacing_h`` hours, eased between.

    Value noise: a pure function of t (and of ``extra`` indices such as a forecast day), so any
    stretch of time can be generated alone. The variance dip between knots is normalised away.
    """
    x = t / spacing_h
    knot = np.floor(x)
    f = x - knot
    s = f * f * (3.0 - 2.0 * f)
    a = normal(key, knot, *extra)
    b = normal(key, knot + 1.0, *extra)
    return ((1.0 - s) * a + s * b) / np.sqrt((1.0 - s) ** 2 + s**2)


def moving_average(
    steps: np.ndarray, kernel: np.ndarray, innovations: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """sum_k kernel[k] * innovations(step - k) at each integer step, without carried state.

    A moving-average (truncated AR) filter computed on contiguous runs of the requested steps, so
    a five-minute interval's value depends only on its own index -- never on which other days were
    generated in the same call. Taps are applied as elementwise array operations in a fixed order,
    which keeps results bit-identical whatever the run length (a BLAS dot product would not).
    """
    unique, inverse = np.unique(steps, return_inverse=True)
    out = np.empty(len(unique))
    taps = len(kernel)
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    for run in np.split(np.arange(len(unique)), breaks):
        first, last = int(unique[run[0]]), int(unique[run[-1]])
        eps = innovations(np.arange(first - taps + 1, last + 1, dtype=np.int64))
        acc = np.zeros(len(run))
        for k in range(taps):
            acc += kernel[k] * eps[taps - 1 - k : taps - 1 - k + len(run)]
        out[run] = acc
    return out[inverse.reshape(steps.shape)]


def _ar1_kernel(phi: float, taps: int) -> np.ndarray:
    """MA weights of a unit-variance AR(1) with coefficient ``phi``, truncated to ``taps`` terms."""
    return math.sqrt(1.0 - phi * phi) * phi ** np.arange(taps)


def ar_noise(key: int, steps: np.ndarray, phi: float, taps: int = 40) -> np.ndarray:
    """Unit-variance AR(1)-like noise indexed by integer step (e.g. five-minute interval number)."""
    return moving_average(steps, _ar1_kernel(phi, taps), lambda idx: normal(key, idx))


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) via Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): numpy only, vectorised."""
    z = np.abs(x) / math.sqrt(2.0)
    k = 1.0 / (1.0 + 0.3275911 * z)
    poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return 0.5 * (1.0 + np.sign(x) * erf)

