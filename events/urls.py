from django.urls import path

from .views import expectations, feeds, public

app_name = "events"

urlpatterns = [
    path("", public.story_list, name="story_list"),
    path("stories/<slug:slug>/", public.story_detail, name="story_detail"),
    path("stories/<slug:slug>/updates/", public.story_updates, name="story_updates"),
    path("stories/<slug:slug>/new/", public.story_new_events, name="story_new_events"),
    path("stories/<slug:slug>/expectations/", expectations.story_expectations, name="story_expectations"),
    path("stories/<slug:slug>/feed.atom", feeds.story_feed, name="story_feed"),
    path("stories/<slug:slug>/calendar.ics", feeds.story_calendar, name="story_calendar"),
    path("stories/<slug:slug>/timeline.json", feeds.story_timeline, name="story_timeline"),
    path("stories/<slug:slug>/embed/", feeds.story_embed, name="story_embed"),
    path("events/<slug:slug>/", public.event_detail, name="event_detail"),
    path("actors/<slug:slug>/", public.actor_detail, name="actor_detail"),
    path("actors/<slug:slug>/expectations/", expectations.actor_expectations, name="actor_expectations"),
    path("actors/<slug:slug>/feed.atom", feeds.actor_feed, name="actor_feed"),
    path("topics/<slug:slug>/", public.topic_detail, name="topic_detail"),
    path("topics/<slug:slug>/expectations/", expectations.topic_expectations, name="topic_expectations"),
    path("topics/<slug:slug>/feed.atom", feeds.topic_feed, name="topic_feed"),
    path("places/<slug:slug>/", public.place_detail, name="place_detail"),
    path("places/<slug:slug>/expectations/", expectations.place_expectations, name="place_expectations"),
]
