"""A URLconf with none of the readers' pages, for tests that swap ROOT_URLCONF."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("ok"), name="home")]
