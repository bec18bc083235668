"""Where media are stored and how they are served: the local folder (the demo), an S3-compatible store
(production, through django-storages), and the CSP that names where readers' browsers may fetch them."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .test_settings import production_environment, run_python

_PRINT_MEDIA_SETTINGS = """
import json
import django
from django.conf import settings
from django.core.files.storage import storages

django.setup()
storage = storages["default"]
print(json.dumps({
    "storage": type(storage).__module__ + "." + type(storage).__name__,
    "bucket": getattr(storage, "bucket_name", None),
    "image_url": storage.url("images/2026/12/abc.jpg"),
    "img_src": [str(source) for source in settings.SECURE_CSP["img-src"]],
    "frame_src": [str(source) for source in settings.SECURE_CSP["frame-src"]],
}))
"""


def _media_settings(**variables: str) -> dict:
    result = run_python("-c", _PRINT_MEDIA_SETTINGS, **production_environment(), **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_media_are_stored_in_a_local_folder_by_default(tmp_path):
    found = _media_settings(MEDIA_ROOT=str(tmp_path))

    assert found["storage"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert found["image_url"] == "/media/images/2026/12/abc.jpg"
    assert found["img_src"] == ["'self'", "data:"]


def test_an_s3_store_is_chosen_by_an_environment_variable_and_named_in_the_csp():
    found = _media_settings(MEDIA_STORAGE="s3", S3_BUCKET="newsroom-media", S3_CUSTOM_DOMAIN="media.example.org")

    assert found["storage"] == "storages.backends.s3.S3Storage"
    assert found["bucket"] == "newsroom-media"
    # Public, unsigned addresses on the store's own domain, which the page's CSP allows for images.
    assert found["image_url"] == "https://media.example.org/images/2026/12/abc.jpg"
    assert "https://media.example.org" in found["img_src"]


def test_an_s3_compatible_endpoint_is_the_origin_allowed_for_images():
    found = _media_settings(MEDIA_STORAGE="s3", S3_BUCKET="media", S3_ENDPOINT_URL="https://s3.example.net:9000")

    assert "https://s3.example.net:9000" in found["img_src"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"MEDIA_STORAGE": "s3"}, "S3_BUCKET"),
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE is local or s3"),
        ({"MEDIA_EMBED_PROVIDERS": "youtube,tiktok"}, "not tiktok"),
    ],
)
def test_media_settings_that_cannot_work_refuse_to_start(variables, message):
    result = run_python("-c", "import django; django.setup()", **production_environment(), **variables)

    assert result.returncode != 0
    assert message in result.stderr


def test_only_the_listed_video_players_may_be_framed():
    assert _media_settings()["frame_src"] == ["https://player.vimeo.com", "https://www.youtube-nocookie.com"]
    assert _media_settings(MEDIA_EMBED_PROVIDERS="youtube")["frame_src"] == ["https://www.youtube-nocookie.com"]
    assert _media_settings(MEDIA_EMBED_PROVIDERS="")["frame_src"] == ["'none'"]


def test_the_deploy_check_passes_with_an_s3_store():
    environment = production_environment() | {"MEDIA_STORAGE": "s3", "S3_BUCKET": "newsroom-media"}

    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", **environment)

    assert result.returncode == 0, result.stdout + result.stderr


# --- Serving the local folder ----------------------------------------------------------------------


@pytest.fixture
def stored_image():
    name = default_storage.save("images/2026/12/served.jpg", ContentFile(b"\xff\xd8\xff\xe0 not really"))
    yield name
    default_storage.delete(name)


def test_a_stored_image_is_served_with_its_type_and_kept_by_browsers_for_a_year(client, stored_image):
    response = client.get(f"/media/{stored_image}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff\xe0 not really"


def test_a_document_is_shown_inline_under_its_name(client):
    name = default_storage.save("documents/2026/12/statement.pdf", ContentFile(b"%PDF-1.4\n"))
    try:
        response = client.get(f"/media/{name}")
    finally:
        default_storage.delete(name)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="statement.pdf"'


@pytest.mark.parametrize(
    "path",
    [
        "images/2026/12/missing.jpg",
        "images/../../secret-key",
        "../var/secret-key",
        "secret-key",
        "images/2026/12/page.html",
        "images/2026/12/served.jpg/",
        "%2e%2e/%2e%2e/etc/passwd.jpg",
    ],
)
def test_nothing_but_stored_media_is_served(client, stored_image, path):
    default_storage.save("images/2026/12/page.html", ContentFile(b"<script>alert(1)</script>"))

    assert client.get(f"/media/{path}").status_code == 404


def test_media_are_read_only(client, stored_image):
    assert client.head(f"/media/{stored_image}").status_code == 200
    assert client.post(f"/media/{stored_image}").status_code == 405
