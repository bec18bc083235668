"""The API's errors, all JSON with a `detail` in words: 404 for what does not exist, 400 for a parameter
that does not parse (ninja's own 422 for a parameter of the wrong type included, so a client handles one
status for every refused request)."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
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


def unknown_url(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Any other URL under /api/: a JSON 404 like the API's own, not the site's HTML page."""
    return JsonResponse({"detail": _("There is no such URL in the API. See /api/docs.")}, status=404)
