from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import is_editor


def desk(request: HttpRequest) -> dict:
    """`is_editor` for templates (the Edit link on event pages), asked only when a template uses it."""
    # No user on an error page for a request refused before AuthenticationMiddleware (a bad Host).
    return {"is_editor": SimpleLazyObject(lambda: hasattr(request, "user") and is_editor(request.user))}
