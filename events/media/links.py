"""Links to outside media: what kind a web address is, who published it, and whether it may play here.

Readers see a link as a card (title, outlet, credit, a link): the page loads nothing from the other
site. A video from a provider listed in MEDIA_EMBED_PROVIDERS may also be played in place, but only
after the reader asks: a click-to-load placeholder, and the provider's privacy-minded player address
(youtube-nocookie.com) named in the page's CSP frame-src, so nothing else can be framed.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from ..models import MediaKind


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    hosts: frozenset[str]
    player_origin: str
    pattern: re.Pattern[str]  # matched against host + path (+ "?" + query), giving the video's id
    player_path: str  # with {id}


PROVIDERS = {
    "youtube": Provider(
        name="youtube",
        label="YouTube",
        hosts=frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be"}),
        player_origin="https://www.youtube-nocookie.com",
        pattern=re.compile(
            r"^(?:(?:www\.|m\.)?youtube\.com/(?:watch\?(?:.*&)?v=|embed/|shorts/|live/)|youtu\.be/)([\w-]{11})\b"
        ),
        player_path="/embed/{id}",
    ),
    "vimeo": Provider(
        name="vimeo",
        label="Vimeo",
        hosts=frozenset({"vimeo.com", "www.vimeo.com", "player.vimeo.com"}),
        player_origin="https://player.vimeo.com",
        pattern=re.compile(r"^(?:www\.)?(?:player\.)?vimeo\.com/(?:video/)?(\d{4,12})\b"),
        player_path="/video/{id}?dnt=1",
    ),
}

# Hosts whose pages are posts on a social network, audio or video: a link's kind when the editor
# does not choose one (an import, mostly).
_SOCIAL = {"twitter.com", "x.com", "facebook.com", "instagram.com", "bsky.app", "threads.net", "t.me", "linkedin.com"}
_AUDIO = {"soundcloud.com", "open.spotify.com", "podcasts.apple.com", "audioboom.com"}
_VIDEO = {"youtube.com", "youtu.be", "vimeo.com", "dailymotion.com", "tiktok.com", "player.vimeo.com"}
_AUDIO_EXTENSIONS = (".mp3", ".m4a", ".ogg", ".oga", ".wav", ".opus")
_VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov", ".m4v")


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _is(host: str, hosts: set[str]) -> bool:
    return any(host == known or host.endswith("." + known) for known in hosts)


def kind_of(url: str) -> str:
    """The kind of media a web address most likely is (a web page when nothing says otherwise)."""
    host, path = host_of(url), urlsplit(url).path.lower()
    if _is(host, _VIDEO) or path.endswith(_VIDEO_EXTENSIONS):
        return MediaKind.VIDEO
    if _is(host, _AUDIO) or path.endswith(_AUDIO_EXTENSIONS):
        return MediaKind.AUDIO
    if _is(host, _SOCIAL) or path.startswith("/@"):  # Mastodon and its kin: /@name/123
        return MediaKind.SOCIAL
    return MediaKind.PAGE


def enabled_providers() -> list[Provider]:
    return [PROVIDERS[name] for name in settings.MEDIA_EMBED_PROVIDERS]


@dataclass(frozen=True)
class Player:
    provider: Provider
    src: str


def player_for(url: str) -> Player | None:
    """The player to embed for a video link, if its provider is one the site allows."""
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.scheme != "http":
        return None
    host = (parts.hostname or "").lower()
    target = host + parts.path + ("?" + parts.query if parts.query else "")
    for provider in enabled_providers():
        if host in provider.hosts and (match := provider.pattern.match(target)):
            return Player(provider, provider.player_origin + provider.player_path.format(id=match.group(1)))
    return None
