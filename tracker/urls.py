from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from events.api import api, unknown_url
from events.api.errors import with_json_errors
from events.views import health, media
from tracker import accounts, languages

# The site's own error pages; JSON under /api/ (tracker/errors.py).
handler400 = "tracker.errors.bad_request"
handler403 = "tracker.errors.permission_denied"
handler404 = "tracker.errors.page_not_found"
handler500 = "tracker.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", with_json_errors(api.urls)),
    re_path(r"^api/", unknown_url, name="api_unknown_url"),  # JSON, not the site's HTML 404
    # The language switcher's links: sets the reader's choice and goes to the page in that language.
    path("language/", languages.switch_language, name="switch_language"),
]
# What people read, in English at the addresses it always had and in the other languages under
# /fr/, /de/, /uk/ and /ru/ (tracker.middleware.LanguageMiddleware picks and redirects).
urlpatterns += i18n_patterns(
    path("desk/", include("events.desk_urls")),
    path("subscribe/", include("events.subscribe_urls")),
    # Logging in and out only: no password reset, as the site sends editors no account mail.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The few strings of static/js/reader.js, in the page's language (cached: see languages.py).
    path("jsi18n/", languages.javascript_catalog, name="javascript_catalog"),
    path("", include("events.urls")),
    prefix_default_language=False,
)
if settings.MEDIA_STORAGE == "local":
    # Uploaded media from var/media; an S3-compatible store serves its own in production.
    urlpatterns.insert(1, path("media/<path:path>", media.serve_media, name="media"))
