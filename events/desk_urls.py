"""The editors' desk, under /desk/.

Every route is wrapped in `permissions.editor_required` here, outermost: a desk view that forgot its
decorator is still closed, and an anonymous visitor is sent to log in before any method check.
"""

from django.urls import path as django_path

from .permissions import editor_required
from .views.desk import events, expectations, history, home, imports, lookups

app_name = "desk"


def path(route: str, view, name: str):
    return django_path(route, editor_required(view), name=name)


urlpatterns = [
    path("", home.desk_home, name="home"),
    path("changes/", home.latest_changes, name="changes"),
    path("stories/quiet/", home.quiet_stories, name="quiet_stories"),
    path("events/", home.event_list, name="event_list"),
    path("events/new/", events.event_new, name="event_new"),
    path("events/rows/<str:formset>/", events.event_row, name="event_row"),
    path("events/<slug:slug>/", events.event_edit, name="event_edit"),
    path("events/<slug:slug>/history/", history.event_history, name="event_history"),
    path("events/<slug:slug>/history/<int:history_id>/restore/", history.event_restore, name="event_restore"),
    path("events/<slug:slug>/corrections/", history.event_correction, name="event_correction"),
    path("expectations/", expectations.expectation_list, name="expectation_list"),
    path("expectations/new/", expectations.expectation_new, name="expectation_new"),
    path("expectations/<int:pk>/", expectations.expectation_detail, name="expectation_detail"),
    path("expectations/<int:pk>/edit/", expectations.expectation_edit, name="expectation_edit"),
    path("expectations/<int:pk>/fulfil/", expectations.expectation_fulfil, name="expectation_fulfil"),
    path("expectations/<int:pk>/extend/", expectations.expectation_extend, name="expectation_extend"),
    path("expectations/<int:pk>/cancel/", expectations.expectation_cancel, name="expectation_cancel"),
    path("expectations/<int:pk>/review/", expectations.expectation_review, name="expectation_review"),
    path("expectations/<int:pk>/history/", history.expectation_history, name="expectation_history"),
    path(
        "expectations/<int:pk>/history/<int:history_id>/restore/",
        history.expectation_restore,
        name="expectation_restore",
    ),
    path("lookups/actors/", lookups.actor_suggestions, name="actor_suggestions"),
    path("preview/", lookups.markdown_preview, name="markdown_preview"),
    path("imports/", imports.import_timeline, name="import_timeline"),
]
