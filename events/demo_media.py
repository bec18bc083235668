"""The demo story's pictures, drawn by the project itself with Pillow: media the project may ship.

Nothing here is copied from anyone: a schematic map of Macron's shuttle diplomacy (the cities placed
by an equirectangular projection of their real coordinates) and a chart of how long the talks
lasted (the lengths the demo's own event summaries give). The drawing is deterministic: the same
code draws the same PNG, byte for byte, with the font Pillow carries (ImageFont.load_default), so
no font file is needed.
"""

import functools
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 1000
CREDIT = "Story Tracker"
BACKGROUND = (246, 244, 239)
INK = (31, 41, 51)
MUTED = (108, 117, 125)
GRID = (222, 218, 208)
ROUTE = (176, 42, 55)
TRIANGLE = (38, 94, 158)
WHITE = (255, 255, 255)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _credit(draw: ImageDraw.ImageDraw, text: str) -> None:
    font = _font(24)
    right, bottom = WIDTH - 40, HEIGHT - 30
    width = draw.textlength(text, font=font)
    draw.text((right - width, bottom - 24), text, font=font, fill=MUTED)


def _label(draw: ImageDraw.ImageDraw, at: tuple[float, float], text: str, *, size: int = 26, anchor: str = "lm"):
    """Text on a white box, so it reads over lines."""
    font = _font(size)
    box = draw.textbbox(at, text, font=font, anchor=anchor)
    draw.rounded_rectangle((box[0] - 8, box[1] - 5, box[2] + 8, box[3] + 5), radius=6, fill=WHITE)
    draw.text(at, text, font=font, fill=INK, anchor=anchor)


# --- The map ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    label_anchor: str = "lm"  # where the name sits: "lm" to the right of the dot, "rm" to its left...
    label_offset: tuple[int, int] = (18, 0)


# Real coordinates (degrees north and east of the city centres).
PARIS = City("Paris", 48.8566, 2.3522, "rm", (-18, 0))
BERLIN = City("Berlin", 52.5200, 13.4050, "mb", (0, -18))
WARSAW = City("Warsaw", 52.2297, 21.0122, "mt", (0, 18))
KYIV = City("Kyiv", 50.4501, 30.5234, "mt", (0, 18))
MOSCOW = City("Moscow", 55.7558, 37.6173, "rm", (-18, -30))

# The map's frame, in degrees, and its projection: equirectangular, true to scale at 52° N.
WEST, EAST, SOUTH, NORTH = -2.0, 42.0, 46.0, 58.5
PARALLEL = math.radians(52)
MAP_LEFT, MAP_TOP = 60, 130
SCALE = min((WIDTH - 120) / ((EAST - WEST) * math.cos(PARALLEL)), 640 / (NORTH - SOUTH))


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """Pixels of a point: x = λ·cos φ₀, y = φ, scaled (an equirectangular projection)."""
    return (
        MAP_LEFT + (longitude - WEST) * math.cos(PARALLEL) * SCALE,
        MAP_TOP + (NORTH - latitude) * SCALE,
    )


def _at(city: City) -> tuple[float, float]:
    return project(city.latitude, city.longitude)


def _curve(start: tuple[float, float], end: tuple[float, float], bend: tuple[float, float], steps: int = 60):
    """A quadratic Bézier from `start` to `end`, pulled towards `bend`."""
    return [
        (
            (1 - t) ** 2 * start[0] + 2 * (1 - t) * t * bend[0] + t**2 * end[0],
            (1 - t) ** 2 * start[1] + 2 * (1 - t) * t * bend[1] + t**2 * end[1],
        )
        for t in (n / steps for n in range(steps + 1))
    ]


def _arrow(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], *, stop_short: float = 16) -> None:
    """A route along `points` ending in an arrowhead just short of the last point (the city's dot)."""
    (x1, y1), (x2, y2) = points[-2], points[-1]
    angle = math.atan2(y2 - y1, x2 - x1)
    tip = (x2 - stop_short * math.cos(angle), y2 - stop_short * math.sin(angle))
    draw.line([*points[:-1], tip], fill=ROUTE, width=6, joint="curve")
    length, spread = 30, math.radians(24)
    head = [
        tip,
        (tip[0] - length * math.cos(angle - spread), tip[1] - length * math.sin(angle - spread)),
        (tip[0] - length * math.cos(angle + spread), tip[1] - length * math.sin(angle + spread)),
    ]
    draw.polygon(head, fill=ROUTE)


def _dashed(draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float]) -> None:
    length = math.dist(start, end)
    dash, gap = 18, 12
    at = 0.0
    while at < length:
        a, b = at / length, min(at + dash, length) / length
        draw.line(
            [
                (start[0] + (end[0] - start[0]) * a, start[1] + (end[1] - start[1]) * a),
                (start[0] + (end[0] - start[0]) * b, start[1] + (end[1] - start[1]) * b),
            ],
            fill=TRIANGLE,
            width=4,
        )
        at += dash + gap


def _graticule(draw: ImageDraw.ImageDraw) -> None:
    font = _font(18)
    left, top = project(NORTH, WEST)
    right, bottom = project(SOUTH, EAST)
    for longitude in range(0, 41, 10):
        x = project(NORTH, longitude)[0]
        draw.line([(x, top), (x, bottom)], fill=GRID, width=2)
        draw.text((x + 6, bottom - 24), f"{longitude}° E", font=font, fill=MUTED)
    for latitude in range(48, 59, 2):
        y = project(latitude, WEST)[1]
        draw.line([(left, y), (right, y)], fill=GRID, width=2)
        draw.text((left + 6, y + 4), f"{latitude}° N", font=font, fill=MUTED)
    draw.rectangle((left, top, right, bottom), outline=GRID, width=2)


LEGS = (
    ("1", "7 Feb: Paris to Moscow, talks with Putin"),
    ("2", "8 Feb: Moscow to Kyiv, talks with Zelenskyy"),
    ("3", "8 Feb: Kyiv to Berlin, Weimar Triangle with Scholz and Duda"),
)


@functools.cache  # the same bytes every time: drawn once a process
def shuttle_map() -> bytes:
    """A schematic map of Macron's trip of 7–8 February 2022, as a PNG."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((60, 40), "Macron's shuttle diplomacy, 7-8 February 2022", font=_font(48), fill=INK)
    draw.text(
        (60, 96),
        "Schematic map: cities placed by their real coordinates (equirectangular projection)",
        font=_font(24),
        fill=MUTED,
    )
    _graticule(draw)

    # The Weimar Triangle: France, Germany and Poland.
    paris, berlin, warsaw, kyiv, moscow = (_at(c) for c in (PARIS, BERLIN, WARSAW, KYIV, MOSCOW))
    for start, end in ((paris, berlin), (berlin, warsaw), (warsaw, paris)):
        _dashed(draw, start, end)
    centre = ((paris[0] + berlin[0] + warsaw[0]) / 3, (paris[1] + berlin[1] + warsaw[1]) / 3 + 14)
    draw.text(centre, "Weimar Triangle", font=_font(22), fill=TRIANGLE, anchor="mm")

    # The three legs, bowed so that no line runs through a city it does not stop at.
    legs = [
        _curve(paris, moscow, project(57.8, 18.0)),
        _curve(moscow, kyiv, project(53.6, 35.6)),
        _curve(kyiv, berlin, project(49.4, 22.5)),
    ]
    for points in legs:
        _arrow(draw, points)
    for (number, _text), points in zip(LEGS, legs, strict=True):
        x, y = points[len(points) // 2]
        draw.ellipse((x - 20, y - 20, x + 20, y + 20), fill=ROUTE)
        draw.text((x, y), number, font=_font(26), fill=WHITE, anchor="mm")

    for city, (x, y) in zip((PARIS, BERLIN, WARSAW, KYIV, MOSCOW), (paris, berlin, warsaw, kyiv, moscow), strict=True):
        draw.ellipse((x - 11, y - 11, x + 11, y + 11), fill=INK, outline=WHITE, width=3)
        dx, dy = city.label_offset
        _label(draw, (x + dx, y + dy), city.name, size=30, anchor=city.label_anchor)

    # The legend, under the map.
    top = project(SOUTH, WEST)[1] + 24
    for row, (number, text) in enumerate(LEGS):
        y = top + row * 40 + 16
        draw.ellipse((60, y - 15, 90, y + 15), fill=ROUTE)
        draw.text((75, y), number, font=_font(20), fill=WHITE, anchor="mm")
        draw.text((104, y), text, font=_font(26), fill=INK, anchor="lm")
    _dashed(draw, (900, top + 16), (960, top + 16))
    draw.text((975, top + 16), "Weimar Triangle: France, Germany, Poland", font=_font(26), fill=INK, anchor="lm")
    _credit(draw, f"Drawn by the {CREDIT}")
    return _png(image)


SHUTTLE_MAP_ALT = (
    "Schematic map of Europe from France to western Russia on a latitude and longitude grid, marking Paris, "
    "Berlin, Warsaw, Kyiv and Moscow. Red arrows trace Macron's trip: 1, on 7 February 2022, Paris to Moscow, "
    "talks with Putin; 2, on 8 February, Moscow to Kyiv, talks with Zelenskyy; 3, the same day, Kyiv to Berlin, "
    "meeting Scholz and Duda. A dashed blue triangle joins Paris, Berlin and Warsaw: the Weimar Triangle."
)


# --- The chart -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Talk:
    event_slug: str  # the demo event whose summary gives the length
    label: str
    hours: float
    said: str  # the length as the summary says it: the bar is no more precise than that


# From the summaries in events/demo_story.py: "a little over five hours", "about nine hours",
# "about an hour long".
TALKS = (
    Talk("normandy-format-advisers-meet-in-berlin", "Normandy-format advisers, Berlin, 10 Feb", 9, "about 9 hours"),
    Talk("macron-putin-talks-in-moscow", "Macron and Putin, the Kremlin, 7 Feb", 5, "a little over 5 hours"),
    Talk("biden-putin-phone-call", "Biden and Putin, by phone, 12 Feb", 1, "about 1 hour"),
)


def _bars(draw: ImageDraw.ImageDraw, talks: Iterable[Talk], *, left: int, top: int, width: int, most: int) -> None:
    per_hour = width / most
    bottom = top + 3 * 200
    for hour in range(0, most + 1):
        x = left + hour * per_hour
        draw.line([(x, top - 10), (x, bottom)], fill=GRID, width=2)
        draw.text((x, bottom + 12), f"{hour} h", font=_font(22), fill=MUTED, anchor="mt")
    for row, talk in enumerate(talks):
        y = top + row * 200
        draw.text((left, y + 8), talk.label, font=_font(30), fill=INK)
        bar_top = y + 56
        draw.rectangle((left, bar_top, left + talk.hours * per_hour, bar_top + 70), fill=ROUTE)
        draw.text((left + talk.hours * per_hour + 16, bar_top + 35), talk.said, font=_font(28), fill=INK, anchor="lm")


@functools.cache
def talks_chart() -> bytes:
    """A bar chart of how long the talks of February 2022 lasted, as a PNG."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((60, 40), "How long the talks lasted, February 2022", font=_font(48), fill=INK)
    draw.text((60, 96), "Lengths as reported, all approximate; hours of talks", font=_font(24), fill=MUTED)
    _bars(draw, TALKS, left=80, top=190, width=1180, most=10)
    _credit(draw, f"Drawn by the {CREDIT} from the demo story's events")
    return _png(image)


TALKS_CHART_ALT = (
    "A horizontal bar chart titled “How long the talks lasted, February 2022”, on a scale of 0 to 10 hours. "
    "Three bars: the Normandy-format advisers' talks in Berlin on 10 February, about 9 hours; Macron and "
    "Putin's talks in the Kremlin on 7 February, a little over 5 hours; Biden and Putin's phone call on "
    "12 February, about 1 hour. All lengths are approximate, as reported."
)
