"""Counter-based random numbers: every draw of a session is a pure function of where it is.

A uniform is ``hash(key, stream, lane, session, step, draw)``, mixed by SplitMix64's
finaliser (Steele, Lea & Flood 2014; the counter-based idea is Salmon et al. 2011,
"Parallel random numbers: as easy as 1, 2, 3"). So:

- a shopper and their counterfactual twin, at the same step, see the same draws (common
  random numbers), however their paths differ elsewhere;
- lane i's k-th session is the same shopper with the same draws for every agent that
  meets it from the same key, whatever the other lanes do;
- the numpy and torch backends give the same bits (64-bit integer arithmetic that wraps).

The key comes from the environment's generator at each full reset, so all randomness
still flows from ``reset(seed=...)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cartgym.sim.backend import Ops

# the streams a session draws from, kept apart so that one never shifts another
ARRIVAL, RESPONSE, EXIT = 1, 2, 3
_GOLDEN = 0x9E3779B97F4A7C15
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_DRAWS = 64  # at most 64 draws per stream and step (slates of up to 60 picks)


def _signed(value: int) -> int:
    """The int64 with the bits of the uint64 ``value`` (torch has no uint64 arithmetic)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _shift(x: Any, bits: int) -> Any:
    """Logical right shift of int64 bits (numpy's and torch's >> is arithmetic on int64)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def mix(x: Any) -> Any:
    """SplitMix64's finaliser on int64 arrays (numpy or torch), wrapping like uint64."""
    with np.errstate(over="ignore"):
        x = x + _signed(_GOLDEN)
        x = (x ^ _shift(x, 30)) * _signed(_M1)
        x = (x ^ _shift(x, 27)) * _signed(_M2)
        return x ^ _shift(x, 31)


class Streams:
    """Per-row bases of the session streams, and uniforms drawn from them.

    ``base(stream, lanes, sessions)`` is computed once per session (at its reset);
    ``uniform(base, steps, n)`` gives the (n, B) uniforms of each row's current step.
    """

    def __init__(self, ops: Ops):
        self.ops = ops
        self.key = ops.zeros((1,), "int64")

    def rekey(self, rng: np.random.Generator) -> None:
        """A new key from the environment's generator (one draw: a full reset)."""
        self.key = self.ops.asarray(rng.integers(0, 2**63 - 1, size=1), "int64")

    def base(self, stream: int, lanes: Any, sessions: Any) -> Any:
        """(R,) int64 base of ``stream`` for the given lanes' given sessions."""
        h = mix(self.key + stream)
        h = mix(h ^ lanes)
        return mix(h ^ sessions)

    def uniform(self, base: Any, steps: Any, n: int) -> Any:
        """(n, R) float64 uniforms in [0, 1): draw j of each row's step ``steps``."""
        if n > _DRAWS:
            raise ValueError(f"at most {_DRAWS} draws per step, asked for {n}")
        ops = self.ops
        counters = (steps * _DRAWS)[None, :] + ops.arange(n)[:, None]
        bits = mix(base[None, :] ^ counters)
        return ops.astype(_shift(bits, 11), "float64") * (1.0 / (1 << 53))
