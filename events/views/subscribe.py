"""Being built (subscribers' pages): stubs until the module lands."""

from django.http import HttpResponse


def _stub(request, *args, **kwargs) -> HttpResponse:
    return HttpResponse("being built", status=501)


subscribe = confirm = manage = unsubscribe = _stub
