"""Who may use the editors' desk: members of the editors group (settings.EDITORS_GROUP).

Anonymous visitors are sent to the login page with `next`; logged-in people outside the group get 403.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def is_editor(user) -> bool:
    """Cached on the user for the request: the desk's pages and the Edit link ask more than once."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not hasattr(user, "_is_editor"):
        user._is_editor = user.groups.filter(name=settings.EDITORS_GROUP).exists()
    return user._is_editor


def editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_editor(request.user):
            raise PermissionDenied
        response = view(request, *args, **kwargs)
        # An editor's page (drafts, a CSRF token) is for them alone: no shared cache, no browser copy.
        add_never_cache_headers(response)
        return response

    return wrapper
