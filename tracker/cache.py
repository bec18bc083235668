"""Django's Redis cache, which a Redis away for a while does not turn into server errors.

Everything the tracker keeps in the cache can be computed again (pages, cards, stamps, the parts of
pages) or asked for again (an import's preview): with Redis down, readers get pages rendered afresh
and editors keep working. A call that cannot reach Redis answers as a miss (get: the default, add:
False, set_many: every key failed) and the cache is left alone for PAUSE seconds, so an outage costs
a request nothing, not a connection attempt per call; then it is tried again. `incr` raises
ValueError, as for a missing key: django-ratelimit then refuses the request (sign-ups wait for
Redis) rather than letting it through uncounted. `clear` is never quietened.

Only the errors of reaching Redis are answered so (redis's ConnectionError, which covers a Redis
still loading its data, and TimeoutError); any other is a bug and raises.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def _missing_key() -> Any:
    raise ValueError("the cache is unreachable")


class ResilientRedisCache(RedisCache):
    PAUSE = 2.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._away_until = 0.0

    @property
    def reachable(self) -> bool:
        """False while an outage is waited out."""
        return time.monotonic() >= self._away_until

    def _call(self, miss: Callable[[], Any], method: Callable[..., Any], *args: Any) -> Any:
        if not self.reachable:
            return miss()
        try:
            return method(*args)
        except UNREACHABLE as error:
            self._away_until = time.monotonic() + self.PAUSE
            logger.warning("cache unreachable, going on without it for %.0f s: %s", self.PAUSE, error)
            return miss()

    def get(self, key, default=None, version=None):
        return self._call(lambda: default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._call(dict, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(lambda: False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(lambda: False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(lambda: False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._call(lambda: None, super().delete_many, keys, version)

    def incr(self, key, delta=1, version=None):
        return self._call(_missing_key, super().incr, key, delta, version)
