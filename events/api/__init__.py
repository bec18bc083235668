"""The read-only JSON API at /api/, described by the OpenAPI document at /api/openapi.json, with
interactive docs at /api/docs (Swagger UI, served from ninja's own static files).

Every response is JSON: errors are `{"detail": "..."}` (400s add each parameter's messages), an unknown
URL under /api/ included (`unknown_url`, routed after the API in tracker/urls.py). Every 200 carries an
ETag and answers If-None-Match with 304 (conditional.py). Drafts never appear: events are the
published ones, and an expectation names the event that raised or fulfilled it only once published.
"""

from django.http import HttpRequest
from django.urls import reverse
from ninja import NinjaAPI, Router
from ninja.openapi.docs import Swagger

from . import conditional, errors, events, reference, stories
from .errors import unknown_url
from .schemas import ApiIndex


class TrackerAPI(NinjaAPI):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._documents: dict[str, dict] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> dict:
        """Generated once per mount point: the routes and schemas do not change while the process runs."""
        key = path_prefix if path_prefix is not None else self.get_root_path(path_params or {})
        if key not in self._documents:
            self._documents[key] = conditional.document(super().get_openapi_schema(path_prefix=key))
        return self._documents[key]

    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__


api = TrackerAPI(
    title="Story Tracker API",
    version="1",
    description="Read-only: stories, their events and expectations, actors and topics. "
    "Lists are paginated by cursor: follow `next`. Errors are JSON with a `detail`.",
    urls_namespace="api",
    # No validator badge: Swagger UI would fetch it from swagger.io, which our CSP (and privacy) forbid.
    docs=Swagger(settings={"validatorUrl": None}),
    docs_decorator=conditional.conditional_get,
)
api.add_decorator(conditional.conditional_get, mode="view")
errors.install(api)

index = Router(tags=["index"])


@index.get("/", response={200: ApiIndex, 304: None}, url_name="index", summary="Index")
def api_index(request: HttpRequest) -> dict:
    """Where to start."""
    return {
        "stories": reverse("api:story_list"),
        "actors": reverse("api:actor_list"),
        "topics": reverse("api:topic_list"),
        "openapi": reverse("api:openapi-json"),
        "docs": reverse("api:openapi-view"),
    }


api.add_router("", index)
api.add_router("", stories.router)
api.add_router("", events.router)
api.add_router("", reference.router)

__all__ = ["api", "unknown_url"]
