"""Rate limits per user (or client address when anonymous) and per module,
counted by the `limits` library in this replica's memory (its asyncio
storage: expiry runs as a task on the loop, not a timer thread)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import STRATEGIES, RateLimiter


class RateLimits:
    def __init__(self, *, user: str, module: str, overrides: dict[str, str] | None = None,
                 strategy: str = "fixed-window") -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown rate limit strategy {strategy!r}; one of {sorted(STRATEGIES)}")
        self.limiter: RateLimiter = STRATEGIES[strategy](MemoryStorage())  # type: ignore[abstract]
        self.user = _parse(user)
        self.module = _parse(module)
        self.overrides = {name: _parse(spec) for name, spec in (overrides or {}).items()}

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
