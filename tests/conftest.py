import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis db 15 is the suite's own)."""
    cache.clear()
    yield
