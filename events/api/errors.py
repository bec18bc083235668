"""The API's errors, all JSON with a `detail` in words: 404 for what does not exist, 400 for a parameter
that does not parse (ninja's own 422 for a parameter of the wrong type included, so a client handles one
status for every refused request), 403 and 429 for what is refused, 405 for a method a route does not
take, 500 (logged as Django logs one) for a failure. Errors raised outside the API's views (a CSRF
failure, a bad Host) are answered in JSON under /api/ by tracker/errors.py."""

import functools
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django_ratelimit.exceptions import Ratelimited
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError


class InvalidParameters(Exception):
    """Refused query parameters: each parameter's name with its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def not_found(message: str) -> HttpError:
    return HttpError(404, message)


def _bad_request(api: NinjaAPI, request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    detail = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=400)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(InvalidParameters)
    def invalid_parameters(request: HttpRequest, exc: InvalidParameters) -> HttpResponse:
        return _bad_request(api, request, exc.errors)

    @api.exception_handler(ValidationError)
    def invalid_types(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            name = str(error["loc"][-1]) if error.get("loc") else "request"
            errors.setdefault(name, []).append(error.get("msg", _("Not a valid value.")))
        return _bad_request(api, request, errors)

    @api.exception_handler(Http404)
    def unknown(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, {"detail": _("Not found.")}, status=404)

    @api.exception_handler(PermissionDenied)
    def denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        if isinstance(exc, Ratelimited):
            return api.create_response(request, {"detail": _("Too many requests: try again later.")}, status=429)
        return api.create_response(request, {"detail": _("You may not do that here.")}, status=403)

    @api.exception_handler(Exception)
    def failed(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Ninja would re-raise it for Django's HTML 500: logged here as Django logs one, answered in JSON.
        got_request_exception.send(sender=None, request=request)
        response = api.create_response(
            request, {"detail": _("Something went wrong on our side; it has been logged.")}, status=500
        )
        log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request, exception=exc)
        return response


def unknown_url(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any other URL under /api/: a JSON 404 like the API's own, not the site's HTML page."""
    return JsonResponse({"detail": _("There is no such URL in the API. See /api/docs.")}, status=404)


def json_errors_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap an API view so that an error it answers in anything but JSON (ninja's 405 for a method a
    route does not take, a plain text body) is answered in JSON, its headers (Allow) kept."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            if response.status_code == 405:
                detail = _("This URL does not take %(method)s: it takes %(allowed)s.") % {
                    "method": request.method,
                    "allowed": response.get("Allow", "GET"),
                }
            else:
                detail = response.reason_phrase
            replacement = JsonResponse({"detail": detail}, status=response.status_code)
            for name, value in response.items():
                if name.lower() not in ("content-type", "content-length"):
                    replacement[name] = value
            return replacement
        return response

    return wrapped


def with_json_errors(urls: tuple[list, str, str]) -> tuple[list, str, str]:
    """The API's URL patterns (NinjaAPI.urls), each view wrapped by json_errors_only."""
    patterns, app_name, namespace = urls
    for pattern in patterns:
        pattern.callback = json_errors_only(pattern.callback)
    return patterns, app_name, namespace
