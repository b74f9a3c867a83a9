"""Rate limits per user (or client address when anonymous) and per module,
counted by the `limits` library in this replica's memory.

`limits`' asyncio memory storage starts an expiry sweep over every key on
each hit that finds no sweep running (its thread-based twin starts a timer
thread instead). Expired counters are already dropped lazily on read, so
the sweep only frees memory: `PacedMemoryStorage` runs it at most once a
second, which keeps a hit O(1) with many users.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import STRATEGIES, RateLimiter


class PacedMemoryStorage(MemoryStorage):
    sweep_interval = 1.0
    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # overrides the name-mangled private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_interval
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class RateLimits:
    def __init__(self, *, user: str, module: str, overrides: dict[str, str] | None = None,
                 strategy: str = "fixed-window") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown rate limit strategy {strategy!r}; one of {sorted(STRATEGIES)}")
        self.strategy = strategy
        self.user = _parse(user)
        self.module = _parse(module)
        self.overrides = {name: _parse(spec) for name, spec in (overrides or {}).items()}
        self._limiter: RateLimiter | None = None  # built on first use, inside the event loop

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = STRATEGIES[self.strategy](PacedMemoryStorage())  # type: ignore[abstract]
        return self._limiter

    async def check_user(self, key: str) -> int | None:
        """None when the call may pass, else the seconds to wait."""
        return await self._hit(self.user, "user", key)

    async def check_module(self, name: str) -> int | None:
        return await self._hit(self.overrides.get(name, self.module), "module", name)

    async def _hit(self, items: tuple[RateLimitItem, ...], *identifiers: str) -> int | None:
        for item in items:
            if not await self.limiter.hit(item, *identifiers):
                reset = (await self.limiter.get_window_stats(item, *identifiers)).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None


def _parse(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec)) if spec.strip() else ()
