"""Uploaded images and documents: checked by their content, cleaned, and stored.

An image must be a JPEG, PNG or WebP that Pillow opens and decodes whole (a renamed program, an SVG
or a truncated file is refused with a message saying so), within the size limits. It is stored
re-encoded from its pixels, turned upright, with no EXIF, GPS, XMP or text chunks: only the colour
profile is kept. A document must be a PDF that pypdf reads, without scripts.

A checked upload is stored at once and named by a signed token (`StoredUpload.token`): a form shown
again (a mistake elsewhere, one more row) carries the token in a hidden field, so the editor never
chooses the file twice, and no one can make a row point at another stored file.
"""

import io
import uuid
import warnings
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ..models import MediaKind, media_document_path, media_image_path

# Pillow's format name -> the extension a stored copy gets.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
TOKEN_SALT = "events.media.upload"  # noqa: S105 (a namespace for signing, not a secret)
# A staged upload not saved with its event within this time is refused (and is for the cleaner).
TOKEN_MAX_AGE = 60 * 60 * 24

# Signatures of things that are not images whatever their name says.
_PROGRAM_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"PK\x03\x04")


@dataclass(frozen=True)
class StoredUpload:
    """A checked, cleaned file in the storage, waiting for its media item."""

    kind: str
    name: str
    size: int
    width: int | None = None
    height: int | None = None
    # The name the editor's file had, shown beside its preview (the stored name is random).
    filename: str = ""

    @property
    def token(self) -> str:
        return signing.dumps(asdict(self), salt=TOKEN_SALT, compress=True)

    @classmethod
    def from_token(cls, token: str) -> "StoredUpload":
        try:
            data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
            return cls(**data)
        except signing.SignatureExpired as error:
            raise ValidationError(_("This upload waited too long: choose the file again.")) from error
        except (signing.BadSignature, TypeError) as error:
            raise ValidationError(_("This upload cannot be found: choose the file again.")) from error

    @property
    def url(self) -> str:
        return default_storage.url(self.name)


def _too_big(upload: UploadedFile, limit: int) -> ValidationError:
    return ValidationError(
        _("“%(name)s” is %(size)s; the limit is %(limit)s. Export a smaller copy and upload that."),
        code="too_big",
        params={"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
    )


def _head(upload: UploadedFile, length: int = 2048) -> bytes:
    upload.seek(0)
    head = upload.read(length)
    upload.seek(0)
    return head


def _refuse_programs(upload: UploadedFile, head: bytes) -> None:
    if head.startswith(_PROGRAM_SIGNATURES):
        raise ValidationError(
            _("“%(name)s” is a program or an archive, not an image or a document."),
            code="not_media",
            params={"name": upload.name},
        )


def check_image(upload: UploadedFile) -> tuple[bytes, str, int, int]:
    """The image re-encoded without metadata, its extension and size; ValidationError if refused."""
    limit = settings.MEDIA_MAX_IMAGE_BYTES
    if upload.size > limit:
        raise _too_big(upload, limit)
    head = _head(upload)
    _refuse_programs(upload, head)
    sniff = head.lstrip().lower()
    if sniff.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in sniff[:512]:
        raise ValidationError(
            _("SVG images are not accepted (they can carry scripts): upload a JPEG, PNG or WebP."), code="svg"
        )
    with warnings.catch_warnings():
        # A decompression bomb warns before it errs: refuse both, never decode billions of pixels.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(upload) as image:
                if image.format not in IMAGE_FORMATS:
                    raise ValidationError(
                        _("“%(name)s” is a %(format)s image: upload a JPEG, PNG or WebP."),
                        code="format",
                        params={"name": upload.name, "format": image.format},
                    )
                if image.width * image.height > settings.MEDIA_MAX_IMAGE_PIXELS:
                    raise ValidationError(
                        _("“%(name)s” is %(width)s × %(height)s pixels; %(limit)s megapixels at most."),
                        code="too_many_pixels",
                        params={
                            "name": upload.name,
                            "width": image.width,
                            "height": image.height,
                            "limit": settings.MEDIA_MAX_IMAGE_PIXELS // 1_000_000,
                        },
                    )
                image.load()
                return _clean(image)
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValidationError(
                _("“%(name)s” is not an image Pillow can open: upload a JPEG, PNG or WebP."),
                code="not_image",
                params={"name": upload.name},
            ) from error
        except (OSError, SyntaxError, ValueError) as error:
            # Pillow says "image file is truncated" (OSError) or "broken data stream" for a cut file.
            raise ValidationError(
                _("“%(name)s” is damaged or incomplete (%(reason)s): export it again and upload the new file."),
                code="damaged",
                params={"name": upload.name, "reason": str(error) or error.__class__.__name__},
            ) from error


def _clean(image: Image.Image) -> tuple[bytes, str, int, int]:
    """The pixels alone: turned upright as the camera meant, saved without any metadata but colour."""
    source_format = image.format
    icc_profile = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    rotated = upright is not image
    if source_format == "JPEG" and upright.mode not in ("RGB", "L", "CMYK"):
        upright = upright.convert("RGB")
    options: dict = {"optimize": True}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if source_format == "JPEG":
        # Keeping the original's quantisation tables avoids a second generation of JPEG loss.
        options.update(quality="keep" if not rotated else 90, subsampling="keep" if not rotated else 0)
        if rotated:
            options.pop("subsampling")
    elif source_format == "WEBP":
        options.update(quality=90)
    buffer = io.BytesIO()
    # A fresh info dict: nothing of the source's EXIF, XMP or text chunks can follow the pixels.
    upright.info = {}
    upright.save(buffer, format=source_format, **options)
    return buffer.getvalue(), IMAGE_FORMATS[source_format], upright.width, upright.height


def check_document(upload: UploadedFile) -> bytes:
    """The PDF's bytes; ValidationError if it is not a readable PDF without scripts."""
    limit = settings.MEDIA_MAX_DOCUMENT_BYTES
    if upload.size > limit:
        raise _too_big(upload, limit)
    head = _head(upload)
    _refuse_programs(upload, head)
    if b"%PDF-" not in head[:1024]:
        raise ValidationError(
            _("“%(name)s” is not a PDF: documents are uploaded as PDF files."),
            code="not_pdf",
            params={"name": upload.name},
        )
    upload.seek(0)
    content = upload.read()
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _("“%(name)s” is locked with a password: upload a copy readers can open."),
                code="encrypted",
                params={"name": upload.name},
            )
        pages = len(reader.pages)
        catalog = reader.trailer["/Root"]
        names = catalog.get("/Names")
        scripted = "/OpenAction" in catalog or "/AA" in catalog or (names is not None and "/JavaScript" in names)
    except ValidationError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, OSError) as error:
        raise ValidationError(
            _("“%(name)s” is damaged or not a PDF pypdf can read: export it again."),
            code="damaged",
            params={"name": upload.name},
        ) from error
    if scripted or pages == 0:
        raise ValidationError(
            _("“%(name)s” runs actions or scripts when it is opened: export it again as a plain PDF."),
            code="scripted",
            params={"name": upload.name},
        )
    return content


def _filename(upload: UploadedFile) -> str:
    return (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]


def store_upload(upload: UploadedFile, kind: str) -> StoredUpload:
    """Check and clean an upload of `kind` (image or document) and put it in the storage."""
    if kind == MediaKind.IMAGE:
        content, extension, width, height = check_image(upload)
        name = default_storage.save(media_image_path(None, f"{uuid.uuid4().hex}.{extension}"), ContentFile(content))
        return StoredUpload(
            kind=kind, name=name, size=len(content), width=width, height=height, filename=_filename(upload)
        )
    if kind == MediaKind.DOCUMENT:
        content = check_document(upload)
        name = default_storage.save(media_document_path(None, f"{uuid.uuid4().hex}.pdf"), ContentFile(content))
        return StoredUpload(kind=kind, name=name, size=len(content), filename=_filename(upload))
    raise ValidationError(_("Only photos, pictures and PDF documents are uploaded; link to other media."))
