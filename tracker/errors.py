"""The site's error answers (tracker/urls.py's handler400/403/404/500, and CSRF_FAILURE_VIEW).

Readers and editors get the site's own pages (templates/400.html ...); anything under /api/ gets JSON
with a `detail`, as the API's own errors (events/api/errors.py), never an HTML page. A 500 is drawn
from a static template rendered with no request context: whatever broke (the database, a context
processor) is not needed to say so.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import requires_csrf_token
from django_ratelimit.exceptions import Ratelimited


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def api_error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(400, _("The request could not be understood."))
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403, or 429 for django-ratelimit's Ratelimited (a PermissionDenied by inheritance)."""
    if isinstance(exception, Ratelimited):
        if is_api(request):
            return api_error(429, _("Too many requests: try again later."))
        return HttpResponse(loader.render_to_string("429.html", request=request), status=429)
    if is_api(request):
        return api_error(403, _("You may not do that here."))
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return api_error(404, _("There is no such URL in the API. See /api/docs."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return api_error(500, _("Something went wrong on our side; it has been logged."))
    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its token (an expired page, cookies off): the site's page, or JSON under /api/."""
    if is_api(request):
        return api_error(403, _("This request needs a CSRF token; the API's GET requests do not."))
    return django_csrf_failure(request, reason)  # templates/403_csrf.html
