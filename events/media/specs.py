"""The resized copies of an uploaded image that pages offer in srcset (imagekit specs).

Three widths cover a phone's card, a desktop card and the event page at twice the pixel density.
WebP keeps them small; the original (already stripped of its metadata) stays the largest size.
"""

from imagekit import ImageSpec
from pilkit.processors import ResizeToFit

THUMBNAIL_WIDTHS = (480, 960, 1600)


class Thumbnail(ImageSpec):
    format = "WEBP"
    options = {"quality": 80, "method": 4}
    width = THUMBNAIL_WIDTHS[0]

    @property
    def processors(self):
        return [ResizeToFit(width=self.width, upscale=False)]

    @classmethod
    def of(cls, width: int) -> type["Thumbnail"]:
        return type(f"Thumbnail{width}", (cls,), {"width": width})
