"""Readers' pages. (Minimal until the readers' issue lands.)"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..models import Actor, Event, Place, Story, Topic


@require_GET
def story_list(request: HttpRequest) -> HttpResponse:
    return render(request, "events/story_list.html", {"stories": Story.objects.newest_development_first()})


@require_GET
def story_detail(request: HttpRequest, slug: str) -> HttpResponse:
    story = get_object_or_404(Story, slug=slug)
    return render(request, "events/story_detail.html", {"story": story})


@require_GET
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = get_object_or_404(Event.objects.published(), slug=slug)
    return render(request, "events/event_detail.html", {"event": event})


def _detail(request: HttpRequest, model: type, slug: str) -> HttpResponse:
    return render(request, "events/entity_detail.html", {"entity": get_object_or_404(model, slug=slug)})


@require_GET
def actor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Actor, slug)


@require_GET
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Topic, slug)


@require_GET
def place_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _detail(request, Place, slug)
