"""Media on the desk's "Log a development" and edit forms: photos with credit and alt text, documents
and links; uploads checked when posted and kept across a refused form; rows moved and removed, with
and without htmx; who may upload."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from events.media.uploads import StoredUpload, store_upload
from events.models import Event, MediaItem, MediaKind
from events.services.media import MediaRow, stored_names, write_media
from tests import factories
from tests.media_files import image_bytes, pdf, photo, photo_with_location
from tests.test_desk_events import _controls

NEW = reverse("desk:event_new")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def story(db):
    return factories.StoryFactory(slug="ukraine", title="Ukraine crisis diplomacy")


def _development(story, *media: dict, **changes) -> dict:
    """A development with no participants, sources or points, and these media rows."""
    data = {
        "story": str(story.pk),
        "title": "Macron and Putin meet in Moscow",
        "kind": "meeting",
        "status": "happened",
        "date": "2022-02-07",
        "precision": "day",
    }
    for prefix in ("participants", "sources", "points", "expected"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data |= {"media-TOTAL_FORMS": str(len(media)), "media-INITIAL_FORMS": "0"}
    for index, row in enumerate(media):
        data |= {f"media-{index}-{name}": value for name, value in row.items()}
    return data | changes


def _photo_row(**changes) -> dict:
    row = {
        "kind": "image",
        "file": photo(),
        "caption": "Macron and Putin at the long table.",
        "credit": "Sputnik / Kremlin pool",
        "alt_text": "Two men at either end of a very long white table.",
    }
    return {name: value for name, value in (row | changes).items() if value is not None}


def _form_data(response, **changes) -> dict:
    """What the page's form would post back as shown (hidden tokens and ids included; no files)."""
    form = response.context["form"]
    data: dict = {}
    for bound in form.event:
        value = bound.value()
        if value is not None:
            data[bound.html_name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    for formset in form.formsets.values():
        for bound in formset.management_form:
            if bound.value() is not None:
                data[bound.html_name] = str(bound.value())
        for row in formset.forms:
            for bound in row:
                value = bound.value()
                if value is True:
                    data[bound.html_name] = "on"
                elif value not in (None, "", False) and bound.name != "file":
                    data[bound.html_name] = str(value)
    return data | changes


def _errors_of(response, index: int = 0) -> dict:
    return response.context["form"].formsets["media"].forms[index].errors


def _stored_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


def _event_with_media(*rows: MediaRow) -> Event:
    event = factories.EventFactory(title="Talks in Moscow", start_precision="day")
    write_media(event, list(rows))
    event.refresh_from_db()
    return event


def _photo_media(name: str = "handshake.jpg", **changes) -> MediaRow:
    upload = store_upload(photo(name), MediaKind.IMAGE)
    fields = {"caption": f"Caption of {name}", "credit": "AFP", "alt_text": f"What {name} shows."} | changes
    return MediaRow(kind=MediaKind.IMAGE, upload=upload, **fields)


def _edit_url(event: Event) -> str:
    return reverse("desk:event_edit", args=[event.slug])


# --- The form's controls ---------------------------------------------------------------------------


def test_the_media_rows_name_their_controls_and_buttons_as_the_contract_says(editor_client, story):
    page = editor_client.get(NEW)
    assert 'enctype="multipart/form-data"' in page.text
    assert "Photos, video and documents" in page.text
    assert "Add a media item" in _controls(page.text).buttons

    response = editor_client.post(NEW, _development(story, add="media"))

    assert response.status_code == 200
    controls = _controls(response.text)
    names = {controls.name_of(control): control for control in controls.controls}
    assert names["Kind of media"]["tag"] == "select"
    assert names["File"]["type"] == "file"
    assert names["Web address"]["name"] == "media-0-url"
    assert names["Taken or published on"]["type"] == "date"
    assert names["Remove"]["type"] == "checkbox"
    for label in ("Outlet", "Caption", "Credit", "Alt text"):
        assert any(control["name"] == f"media-0-{label.lower().replace(' ', '_')}" for control in controls.controls)
    assert {"Move up", "Move down"} <= set(controls.buttons)
    assert 'name="media-0-item"' in response.text and 'name="media-0-upload"' in response.text
    assert 'name="move" value="media-0-up"' in response.text
    assert "This field is required." not in response.text


def test_one_more_media_row_comes_with_htmx(editor_client):
    response = editor_client.get(reverse("desk:event_row", args=["media"]), {"media-TOTAL_FORMS": "2"}, headers=HTMX)
    assert response.status_code == 200
    assert 'name="media-2-file"' in response.text and "Media item 3" in response.text
    assert 'name="media-TOTAL_FORMS" value="3"' in response.text


# --- Logging a development with media ------------------------------------------------------------


def test_a_photo_with_caption_credit_and_alt_text_is_published_as_the_lead_picture(editor_client, story):
    response = editor_client.post(NEW, _development(story, _photo_row(file=photo_with_location()), publish="1"))

    assert response.status_code == 302, _errors_of(response) if response.context else response
    event = Event.objects.get()
    [item] = event.media.all()
    assert event.is_published and event.lead_image == item
    assert (item.kind, item.caption, item.credit) == (
        "image",
        "Macron and Putin at the long table.",
        "Sputnik / Kremlin pool",
    )
    assert item.alt_text == "Two men at either end of a very long white table."
    with default_storage.open(item.image.name) as stored, Image.open(stored) as image:
        assert not image.getexif() and "xmp" not in image.info
        assert image.size == (item.width, item.height) == (40, 80)
    assert all(default_storage.exists(spec.name) for spec, _width, _height in item.thumbnails())


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("alt_text", "Every photo needs alt text, so that everyone can read the page"),
        ("credit", "Every photo needs a credit"),
    ],
)
def test_a_photo_without_alt_text_or_credit_is_refused_and_keeps_the_chosen_file(
    editor_client, story, missing, message
):
    response = editor_client.post(NEW, _development(story, _photo_row(**{missing: ""}), publish="1"))

    assert response.status_code == 422
    assert message in _errors_of(response)[missing][0]
    assert message in response.text
    assert not Event.objects.exists() and not MediaItem.objects.exists()
    # The file was checked and staged: the page carries its token and shows it, so it is not chosen twice.
    token = response.context["form"].formsets["media"].forms[0]["upload"].value()
    staged = StoredUpload.from_token(token)
    assert f'value="{token}"' in response.text
    assert "Chosen: handshake.jpg" in response.text and staged.url in response.text

    response = editor_client.post(NEW, _form_data(response, **{f"media-0-{missing}": "Given at last.", "publish": "1"}))

    assert response.status_code == 302
    item = MediaItem.objects.get()
    assert item.image.name == staged.name
    assert getattr(item, missing) == "Given at last."


@pytest.mark.parametrize(
    ("kind", "upload", "message"),
    [
        ("image", SimpleUploadedFile("photo.jpg", b"MZ\x90\x00" + bytes(300)), "is a program or an archive"),
        ("image", SimpleUploadedFile("map.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'), "SVG"),
        ("image", SimpleUploadedFile("cut.jpg", image_bytes(300, 200)[:600]), "damaged or incomplete"),
        ("image", SimpleUploadedFile("old.gif", image_bytes(format="GIF")), "is a GIF image"),
        ("", SimpleUploadedFile("old.bmp", image_bytes(format="BMP")), "is a BMP image"),
        ("document", pdf(script="open_action"), "runs actions or scripts"),
        ("document", SimpleUploadedFile("statement.pdf", b"Not a PDF at all."), "is not a PDF"),
    ],
    ids=["program", "svg", "truncated", "gif", "bmp", "scripted-pdf", "not-a-pdf"],
)
def test_a_refused_upload_is_said_on_the_file_field_and_nothing_is_saved(editor_client, story, kind, upload, message):
    before = _stored_files()

    response = editor_client.post(NEW, _development(story, _photo_row(kind=kind, file=upload), publish="1"))

    assert response.status_code == 422
    assert message in " ".join(_errors_of(response)["file"])
    assert not Event.objects.exists() and not MediaItem.objects.exists()
    assert _stored_files() == before
    assert response.context["form"].formsets["media"].forms[0]["upload"].value() in (None, "")


def test_an_oversized_photo_is_refused_with_the_limit(editor_client, story, settings):
    settings.MEDIA_MAX_IMAGE_BYTES = 2048
    response = editor_client.post(NEW, _development(story, _photo_row(file=photo(width=500, height=500, quality=100))))
    assert response.status_code == 422
    assert "the limit is 2.0\xa0KB" in _errors_of(response)["file"][0]


def test_a_refused_upload_is_said_even_when_a_row_is_added(editor_client, story):
    program = SimpleUploadedFile("photo.jpg", b"MZ" + bytes(100))
    response = editor_client.post(NEW, _development(story, _photo_row(file=program), add="media"))
    assert response.status_code == 200
    assert "is a program or an archive" in response.text
    assert len(response.context["form"].formsets["media"].forms) == 2


def test_a_document_and_a_link_are_saved_and_the_link_gets_its_kind_and_outlet(editor_client, story):
    rows = [
        {"kind": "document", "file": pdf(), "title": "Joint statement"},
        {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "title": "Press conference"},
    ]
    response = editor_client.post(NEW, _development(story, *rows, save_draft="1"))

    assert response.status_code == 302, _errors_of(response) if response.context else response
    document, video = Event.objects.get().media.all()
    assert (document.kind, document.title, document.document.name.endswith(".pdf")) == (
        "document",
        "Joint statement",
        True,
    )
    assert (video.kind, video.outlet, video.url) == (
        "video",
        "youtube.com",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    )
    assert Event.objects.get().lead_image is None


def test_a_pdf_with_the_kind_left_at_its_default_is_a_document(editor_client, story):
    response = editor_client.post(NEW, _development(story, {"file": pdf()}, save_draft="1"))
    assert response.status_code == 302
    assert MediaItem.objects.get().kind == "document"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"kind": "video", "file": pdf()}, "file", "A link has no file"),
        ({"kind": "video", "title": "No address"}, "url", "Give the web address"),
        ({"kind": "page", "url": "ftp://example.org/statement"}, "url", "beginning with https://"),
        ({"kind": "document", "title": "Where is it?"}, "file", "Choose the document's PDF file."),
        ({"kind": "image", "credit": "AFP", "alt_text": "A handshake."}, "file", "Choose the photo's file."),
        ({"kind": "image", "file": pdf(), "credit": "AFP", "alt_text": "x"}, "file", "not an image Pillow can open"),
        ({"caption": "Nothing else"}, "file", "Choose a file, or give the web address"),
    ],
    ids=[
        "link-with-file",
        "link-without-address",
        "ftp",
        "document-without-file",
        "photo-without-file",
        "pdf-as-photo",
        "nothing-to-show",
    ],
)
def test_each_kind_of_media_asks_for_what_it_needs(editor_client, story, row, field, message):
    response = editor_client.post(NEW, _development(story, row, save_draft="1"))
    assert response.status_code == 422
    assert message in " ".join(_errors_of(response)[field])
    assert not Event.objects.exists()


def test_a_photo_with_a_web_address_is_refused(editor_client, story):
    response = editor_client.post(NEW, _development(story, _photo_row(url="https://example.org/"), save_draft="1"))
    assert response.status_code == 422
    assert "uploaded, not linked" in _errors_of(response)["url"][0]


def test_blank_media_rows_are_skipped(editor_client, story):
    response = editor_client.post(NEW, _development(story, {"kind": ""}, {"kind": "image"}, save_draft="1"))
    assert response.status_code == 302
    assert not MediaItem.objects.exists()


def test_a_tampered_upload_token_is_refused(editor_client, story):
    token = store_upload(photo(), MediaKind.IMAGE).token
    row = _photo_row(file=None, upload=token[:-3] + ("xyz" if not token.endswith("xyz") else "abc"))

    response = editor_client.post(NEW, _development(story, row, publish="1"))

    assert response.status_code == 422
    assert "This upload cannot be found: choose the file again." in _errors_of(response)["file"]
    assert not Event.objects.exists()


def test_a_media_item_of_another_event_cannot_be_named(editor_client, story):
    other = _event_with_media(_photo_media())
    row = {"item": str(other.media.get().pk), "kind": "image", "credit": "AFP", "alt_text": "Taken."}

    response = editor_client.post(NEW, _development(story, row, publish="1"))

    assert response.status_code == 422
    assert "This media item is not one of this event's" in _errors_of(response)["__all__"][0]
    assert other.media.count() == 1 and Event.objects.count() == 1


# --- Editing: keep, reorder, remove ----------------------------------------------------------------


def test_the_edit_form_shows_each_saved_item_with_a_preview_and_saving_keeps_the_files(editor_client):
    event = _event_with_media(
        _photo_media("first.jpg"), MediaRow(kind=MediaKind.DOCUMENT, upload=store_upload(pdf(), "document"))
    )
    photo_item, document = event.media.all()
    files = stored_names(photo_item) + stored_names(document)

    page = editor_client.get(_edit_url(event))

    assert page.status_code == 200
    rows = page.context["form"].formsets["media"].forms
    assert [row["item"].value() for row in rows] == [photo_item.pk, document.pk]
    assert photo_item.thumbnail_for(160)[0].url in page.text and document.document.url in page.text
    response = editor_client.post(
        _edit_url(event), _form_data(page, **{"media-0-caption": "A new caption.", "save": "1"})
    )

    assert response.status_code == 302, _errors_of(response) if response.context else response
    kept_photo, kept_document = event.media.all()
    assert (kept_photo.pk, kept_photo.image.name, kept_photo.caption) == (
        photo_item.pk,
        photo_item.image.name,
        "A new caption.",
    )
    assert kept_document.document.name == document.document.name
    assert all(default_storage.exists(name) for name in files)


@pytest.mark.parametrize("htmx", [False, True], ids=["without-javascript", "with-htmx"])
def test_move_up_swaps_two_rows_and_saving_keeps_that_order_and_the_new_lead(editor_client, htmx):
    event = _event_with_media(_photo_media("first.jpg"), _photo_media("second.jpg"))
    first, second = event.media.all()
    assert event.lead_image == first
    headers = HTMX if htmx else {}

    moved = editor_client.post(
        _edit_url(event), _form_data(editor_client.get(_edit_url(event)), move="media-1-up"), headers=headers
    )

    assert moved.status_code == 200
    assert ("<html" in moved.text) is not htmx
    rows = moved.context["form"].formsets["media"].forms
    assert [row["item"].value() for row in rows] == [str(second.pk), str(first.pk)]
    assert [row["caption"].value() for row in rows] == ["Caption of second.jpg", "Caption of first.jpg"]
    assert "This field is required." not in moved.text
    assert list(event.media.all()) == [first, second]  # nothing saved yet

    saved = editor_client.post(_edit_url(event), _form_data(moved, save="1"), headers=headers)

    assert saved.status_code == (200 if htmx else 302)
    assert list(event.media.order_by("position").values_list("pk", "position")) == [(second.pk, 0), (first.pk, 1)]
    event.refresh_from_db()
    assert event.lead_image == second


def test_move_keeps_a_file_posted_with_it_in_its_row(editor_client, story):
    data = _development(story, {"url": "https://vimeo.com/123456", "title": "Video"}, _photo_row(), move="media-1-up")

    moved = editor_client.post(NEW, data)

    rows = moved.context["form"].formsets["media"].forms
    assert rows[0]["upload"].value() and StoredUpload.from_token(rows[0]["upload"].value()).kind == "image"
    assert rows[1]["url"].value() == "https://vimeo.com/123456"
    response = editor_client.post(NEW, _form_data(moved, publish="1"))
    assert response.status_code == 302
    assert [item.kind for item in MediaItem.objects.order_by("position")] == ["image", "video"]


def test_moving_the_first_row_up_changes_nothing(editor_client, story):
    data = _development(
        story, {"url": "https://example.org/a", "title": "A"}, {"url": "https://example.org/b"}, move="media-0-up"
    )
    rows = editor_client.post(NEW, data).context["form"].formsets["media"].forms
    assert [row["url"].value() for row in rows] == ["https://example.org/a", "https://example.org/b"]


def test_removing_a_row_deletes_the_item_and_its_files_once_saved(editor_client, django_capture_on_commit_callbacks):
    event = _event_with_media(_photo_media("first.jpg"), _photo_media("second.jpg"))
    first, second = event.media.all()
    files = stored_names(first)
    page = editor_client.get(_edit_url(event))

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(_edit_url(event), _form_data(page, **{"media-0-DELETE": "on", "save": "1"}))

    assert response.status_code == 302
    assert list(event.media.all()) == [second]
    assert not any(default_storage.exists(name) for name in files)
    event.refresh_from_db()
    assert event.lead_image == second


def test_removing_every_row_removes_every_item(editor_client):
    event = _event_with_media(_photo_media())
    page = editor_client.get(_edit_url(event))
    editor_client.post(_edit_url(event), _form_data(page, **{"media-0-DELETE": "on", "save": "1"}))
    assert not event.media.exists()
    event.refresh_from_db()
    assert event.lead_image is None


def test_a_new_file_on_a_saved_row_replaces_that_item(editor_client):
    event = _event_with_media(_photo_media("first.jpg"))
    old = event.media.get()
    page = editor_client.get(_edit_url(event))

    response = editor_client.post(
        _edit_url(event), _form_data(page, **{"media-0-file": photo("better.jpg"), "save": "1"})
    )

    assert response.status_code == 302
    new = event.media.get()
    assert new.pk != old.pk and new.caption == old.caption
    event.refresh_from_db()
    assert event.lead_image == new


def test_a_saved_photo_keeps_its_kind(editor_client):
    event = _event_with_media(_photo_media())
    page = editor_client.get(_edit_url(event))
    response = editor_client.post(_edit_url(event), _form_data(page, **{"media-0-kind": "document", "save": "1"}))
    assert response.status_code == 422
    assert "keeps its kind" in _errors_of(response)["kind"][0]


def test_the_edit_page_costs_the_same_with_many_media(editor_client, django_assert_max_num_queries):
    event = _event_with_media(*(_photo_media(f"photo-{n}.jpg") for n in range(8)))
    with django_assert_max_num_queries(18):
        response = editor_client.get(_edit_url(event))
    assert response.status_code == 200
    assert response.text.count('class="media-preview__image"') == 8


# --- Who may upload --------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, story):
    before = _stored_files()
    for response in (client.get(NEW), client.post(NEW, _development(story, _photo_row(), publish="1"))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert _stored_files() == before


def test_a_logged_in_reader_who_is_not_an_editor_cannot_upload(client, story):
    client.force_login(factories.UserFactory())
    before = _stored_files()

    response = client.post(NEW, _development(story, _photo_row(), publish="1"))

    assert response.status_code == 403
    assert _stored_files() == before
    assert not Event.objects.exists() and not MediaItem.objects.exists()


# --- The admin ------------------------------------------------------------------------------------


def test_the_event_admin_edits_media_words_and_order_but_takes_no_uploads(admin_client):
    from tests.test_admin import _form_data as admin_form_data

    event = _event_with_media(_photo_media("first.jpg"), _photo_media("second.jpg"))
    first, second = event.media.all()
    url = reverse("admin:events_event_change", args=[event.pk])
    page = admin_client.get(url)
    [inline] = [inline for inline in page.context["inline_admin_formsets"] if inline.formset.model is MediaItem]
    assert not inline.has_add_permission and not inline.has_delete_permission
    assert set(inline.formset.form.base_fields) >= {"position", "caption", "credit", "alt_text"}
    assert "image" not in inline.formset.form.base_fields and "document" not in inline.formset.form.base_fields
    assert first.image.name.rsplit("/", 1)[-1] in page.text

    prefix = inline.formset.prefix
    data = admin_form_data(page) | {f"{prefix}-0-position": "5", f"{prefix}-0-caption": "Corrected caption."}
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    first.refresh_from_db()
    assert (first.position, first.caption, first.image.name) == (5, "Corrected caption.", first.image.name)
    event.refresh_from_db()
    assert event.lead_image == second
    assert admin_client.get(reverse("admin:events_mediaitem_add")).status_code == 403
