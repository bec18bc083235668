from django.urls import path

from .views import public

app_name = "events"

urlpatterns = [
    path("", public.story_list, name="story_list"),
    path("stories/<slug:slug>/", public.story_detail, name="story_detail"),
    path("stories/<slug:slug>/updates/", public.story_updates, name="story_updates"),
    path("stories/<slug:slug>/new/", public.story_new_events, name="story_new_events"),
    path("events/<slug:slug>/", public.event_detail, name="event_detail"),
    path("actors/<slug:slug>/", public.actor_detail, name="actor_detail"),
    path("topics/<slug:slug>/", public.topic_detail, name="topic_detail"),
    path("places/<slug:slug>/", public.place_detail, name="place_detail"),
]
