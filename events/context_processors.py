from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .permissions import is_editor


def desk(request: HttpRequest) -> dict:
    """`is_editor` for templates (the Edit link on event pages), asked only when a template uses it."""
    return {"is_editor": SimpleLazyObject(lambda: is_editor(request.user))}
