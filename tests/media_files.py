"""Files for the media tests, made in memory: images drawn with Pillow, PDFs written with pypdf."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description photographer="secret"/></rdf:RDF></x:xmpmeta>'


def image_bytes(width: int = 64, height: int = 48, *, format: str = "JPEG", **save_options) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    # A second colour on the left, so that a rotation shows in the pixels.
    image.paste((20, 40, 200), (0, 0, width // 4, height))
    buffer = io.BytesIO()
    image.save(buffer, format=format, **save_options)
    return buffer.getvalue()


def photo(name: str = "handshake.jpg", **options) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**options), content_type="image/jpeg")


def photo_with_location(width: int = 80, height: int = 40) -> SimpleUploadedFile:
    """A JPEG whose EXIF says where it was taken (GPS) and to turn it a quarter (orientation 6), with XMP."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "Camera maker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)})
    content = image_bytes(width, height, exif=exif.tobytes(), xmp=XMP)
    return SimpleUploadedFile("kremlin.jpg", content, content_type="image/jpeg")


def pdf_bytes(*, script: str = "") -> bytes:
    """A one-page PDF; `script` "names" adds document JavaScript, "open_action" an /OpenAction running it."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if script == "names":
        writer.add_open_action(JavaScript("app.alert('hello');"))
    elif script == "open_action":
        action = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1);")}
        )
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf(name: str = "statement.pdf", *, script: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(script=script), content_type="application/pdf")
