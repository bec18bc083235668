"""Uploads checked by their content (events.media.uploads), and the files of saved media items:
thumbnails made on save, files deleted once a removal commits."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from events.media.uploads import StoredUpload, check_document, check_image, store_upload
from events.models import MediaItem, MediaKind
from events.services.media import MediaRow, stored_names, write_media
from tests import factories
from tests.media_files import GPS_IFD, image_bytes, pdf, photo, photo_with_location


def _refusal(check, upload) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check(upload)
    return caught.value


def test_a_renamed_program_is_refused_whatever_its_name_says():
    program = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00\x03" + bytes(200), content_type="image/jpeg")
    error = _refusal(check_image, program)
    assert error.code == "not_media"
    assert "“photo.jpg” is a program or an archive" in error.messages[0]


def test_an_image_over_the_size_limit_is_refused_with_the_limit(settings):
    settings.MEDIA_MAX_IMAGE_BYTES = 1024
    error = _refusal(check_image, photo(width=400, height=400, quality=100))
    assert error.code == "too_big"
    assert "the limit is 1.0\xa0KB" in error.messages[0]


def test_an_svg_is_refused_as_it_can_carry_scripts():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    error = _refusal(check_image, SimpleUploadedFile("map.jpg", svg, content_type="image/jpeg"))
    assert error.code == "svg"
    assert "SVG images are not accepted" in error.messages[0]


def test_a_truncated_jpeg_is_refused_as_damaged():
    content = image_bytes(300, 200, quality=95)
    error = _refusal(check_image, SimpleUploadedFile("cut.jpg", content[: len(content) // 2]))
    assert error.code == "damaged"
    assert "“cut.jpg” is damaged or incomplete" in error.messages[0]


@pytest.mark.parametrize("format", ["GIF", "BMP"])
def test_other_image_formats_are_refused_by_name(format):
    error = _refusal(check_image, SimpleUploadedFile("old.img", image_bytes(format=format)))
    assert error.code == "format"
    assert f"is a {format} image: upload a JPEG, PNG or WebP" in error.messages[0]


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 100 * 100
    error = _refusal(check_image, photo(width=200, height=101))
    assert error.code == "too_many_pixels"
    assert "200 × 101 pixels" in error.messages[0]


def test_location_and_camera_metadata_are_stripped_and_the_photo_turned_upright(settings):
    upload = store_upload(photo_with_location(width=80, height=40), MediaKind.IMAGE)

    with default_storage.open(upload.name) as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not image.getexif().get_ifd(GPS_IFD)
        assert "xmp" not in image.info and "exif" not in image.info
        # Orientation 6 means "turn a quarter": the stored pixels are upright, so 40 × 80.
        assert image.size == (40, 80)
        assert (upload.width, upload.height) == (40, 80)
        # The blue band on the left of the camera's frame is now along the top.
        assert image.getpixel((20, 2))[2] > 150
    assert upload.filename == "kremlin.jpg"


def test_a_png_keeps_its_format_and_loses_its_text_chunks():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone's home address")
    content = image_bytes(format="PNG", pnginfo=info)

    cleaned, extension, width, height = check_image(SimpleUploadedFile("chart.png", content))

    with Image.open(io.BytesIO(cleaned)) as image:
        assert (image.format, extension, width, height) == ("PNG", "png", 64, 48)
        assert "Author" not in image.info


def test_a_plain_pdf_is_accepted():
    assert check_document(pdf()).startswith(b"%PDF-")


@pytest.mark.parametrize("script", ["open_action", "names"])
def test_a_pdf_that_runs_javascript_is_refused(script):
    error = _refusal(check_document, pdf(script=script))
    assert error.code == "scripted"
    assert "runs actions or scripts when it is opened" in error.messages[0]


def test_a_file_that_is_not_a_pdf_is_refused_as_a_document():
    error = _refusal(check_document, SimpleUploadedFile("statement.pdf", b"Just some words, not a PDF."))
    assert error.code == "not_pdf"
    error = _refusal(check_document, SimpleUploadedFile("statement.pdf", b"%PDF-1.7\n" + bytes(100)))
    assert error.code == "damaged"


def test_a_stored_upload_is_named_by_a_signed_token_that_cannot_be_forged():
    upload = store_upload(pdf(), MediaKind.DOCUMENT)
    assert StoredUpload.from_token(upload.token) == upload
    assert default_storage.exists(upload.name)

    forged = upload.token[:-4] + ("AAAA" if not upload.token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValidationError, match="cannot be found"):
        StoredUpload.from_token(forged)


def test_only_photos_and_documents_are_uploaded():
    with pytest.raises(ValidationError, match="link to other media"):
        store_upload(photo(), MediaKind.VIDEO)


def _saved_photo(event, width: int = 1000, height: int = 500) -> MediaItem:
    upload = store_upload(photo(width=width, height=height), MediaKind.IMAGE)
    write_media(event, [MediaRow(kind=MediaKind.IMAGE, upload=upload, credit="AFP", alt_text="Two men shake hands.")])
    return MediaItem.objects.get(event=event)


@pytest.mark.django_db
def test_thumbnails_are_made_on_save_in_webp_at_each_width_never_wider_than_the_original():
    item = _saved_photo(factories.EventFactory(), width=1000, height=500)

    sizes = item.thumbnails()
    assert [(width, height) for _spec, width, height in sizes] == [(480, 240), (960, 480), (1000, 500)]
    for spec, width, height in sizes:
        assert default_storage.exists(spec.name), spec.name
        with default_storage.open(spec.name) as stored, Image.open(stored) as image:
            assert image.format == "WEBP"
            assert image.size == (width, height)
    assert item.srcset.count("w, ") == 2


@pytest.mark.django_db
def test_a_removed_item_s_files_are_deleted_once_the_removal_commits(django_capture_on_commit_callbacks):
    event = factories.EventFactory()
    item = _saved_photo(event)
    names = stored_names(item)
    assert len(names) == 4 and all(default_storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        write_media(event, [])
    # Not before the commit: a rolled-back edit keeps every file it showed.
    assert all(default_storage.exists(name) for name in names)
    for callback in callbacks:
        callback()

    assert not any(default_storage.exists(name) for name in names)
    assert not MediaItem.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
def test_the_first_image_leads_the_event_and_a_document_never_does():
    event = factories.EventFactory()
    document = store_upload(pdf(), MediaKind.DOCUMENT)
    image = store_upload(photo(), MediaKind.IMAGE)

    write_media(
        event,
        [
            MediaRow(kind=MediaKind.DOCUMENT, upload=document),
            MediaRow(kind=MediaKind.IMAGE, upload=image, credit="AFP", alt_text="A handshake."),
        ],
    )

    event.refresh_from_db()
    assert event.lead_image.kind == MediaKind.IMAGE
    assert [item.kind for item in event.media.all()] == ["document", "image"]
