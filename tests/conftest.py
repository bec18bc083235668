import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

# Every log line of the run goes to one file, checked at the end for addresses, tokens and secrets.
pytest_plugins = ["tests.log_capture"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (Redis db 15 is the suite's own), and with nothing of it
    remembered in this process (stamps trusted for a second, pages and cards kept in memory)."""
    from events import page_cache

    cache.clear()
    page_cache.forget_remembered()
    yield


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English: LocaleMiddleware leaves the last request's language active in the
    thread, as a server's next request would activate its own."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def editors_group(db):
    from django.conf import settings
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=settings.EDITORS_GROUP)[0]


@pytest.fixture
def editor(editors_group):
    from tests.factories import UserFactory

    user = UserFactory(username="desk-editor")
    user.groups.add(editors_group)
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
