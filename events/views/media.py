"""Uploaded media from the local storage folder (MEDIA_STORAGE=local, the demo's default).

Production stores media in an S3-compatible store whose own server (or CDN) answers for them; this
view is for a single machine. Names are random and never reused, so browsers may keep a file for a
year. Only the media folders are served, and nothing a browser could run: an image or a PDF, with
its type fixed by its extension and sniffing off.
"""

import posixpath

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

# The only types the uploads make (events.media.uploads) and their resized copies (WebP).
MEDIA_FOLDERS = ("images/", "documents/", "thumbnails/")
SERVED_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp", ".pdf": "application/pdf"}


@require_safe
def serve_media(request: HttpRequest, path: str) -> FileResponse:
    extension = posixpath.splitext(path)[1].lower()
    # Only the canonical name of a file in a media folder: no "..", no "//", no trailing slash.
    if posixpath.normpath(path) != path or not path.startswith(MEDIA_FOLDERS) or extension not in SERVED_TYPES:
        raise Http404
    try:
        full_path = safe_join(settings.MEDIA_ROOT, path)
        handle = open(full_path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (OSError, ValueError) as error:
        raise Http404 from error
    response = FileResponse(handle, content_type=SERVED_TYPES[extension])
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    if extension == ".pdf":
        # Shown in the browser's own viewer, under its stored name.
        response["Content-Disposition"] = f'inline; filename="{posixpath.basename(path)}"'
    return response
