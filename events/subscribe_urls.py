"""Subscribing, under /subscribe/: sign up, confirm (double opt-in), preferences, unsubscribe."""

from django.urls import path

from .views import subscribe

app_name = "subscribe"

urlpatterns = [
    path("", subscribe.subscribe, name="start"),
    path("confirm/<str:token>/", subscribe.confirm, name="confirm"),
    path("manage/<str:token>/", subscribe.manage, name="manage"),
    path("unsubscribe/<str:token>/", subscribe.unsubscribe, name="unsubscribe"),
]
