"""Actors and topics: the people, countries, organisations and subjects the stories are about."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from ..models import Actor, Topic
from . import pagination
from .errors import not_found
from .pagination import ListQuery, Ordering
from .schemas import ActorOut, ActorPage, BadRequest, Message, TopicOut, TopicPage, slug_of

router = Router()

# Slugs are unique and follow the names closely: the list's order and its cursor in one.
BY_SLUG = Ordering("slug", descending=False, parse=pagination.parse_slug, format=str, unique=True)


@router.get(
    "/actors",
    response={200: ActorPage, 304: None, 400: BadRequest},
    url_name="actor_list",
    summary="Actors",
    tags=["actors"],
)
def actor_list(request: HttpRequest, query: Query[ListQuery]) -> dict:
    """People, countries and organisations, by slug."""
    actors = Actor.objects.select_related("affiliation")
    items, cursor = pagination.page(actors, BY_SLUG, after=query.after, limit=query.limit)
    return {"items": items, "next": pagination.next_link(request, cursor)}


@router.get(
    "/actors/{slug:slug}",
    response={200: ActorOut, 304: None, 404: Message},
    url_name="actor_detail",
    summary="An actor",
    tags=["actors"],
)
def actor_detail(request: HttpRequest, slug: str = slug_of("actor")) -> Actor:
    """One actor, with the actor it belongs to (Macron: France)."""
    actor = Actor.objects.select_related("affiliation").filter(slug=slug).first()
    if actor is None:
        raise not_found(_("No actor has the slug “%(slug)s”.") % {"slug": slug})
    return actor


@router.get(
    "/topics",
    response={200: TopicPage, 304: None, 400: BadRequest},
    url_name="topic_list",
    summary="Topics",
    tags=["topics"],
)
def topic_list(request: HttpRequest, query: Query[ListQuery]) -> dict:
    """Topics, by slug."""
    items, cursor = pagination.page(Topic.objects.all(), BY_SLUG, after=query.after, limit=query.limit)
    return {"items": items, "next": pagination.next_link(request, cursor)}


@router.get(
    "/topics/{slug:slug}",
    response={200: TopicOut, 304: None, 404: Message},
    url_name="topic_detail",
    summary="A topic",
    tags=["topics"],
)
def topic_detail(request: HttpRequest, slug: str = slug_of("topic")) -> Topic:
    """One topic."""
    topic = Topic.objects.filter(slug=slug).first()
    if topic is None:
        raise not_found(_("No topic has the slug “%(slug)s”.") % {"slug": slug})
    return topic
