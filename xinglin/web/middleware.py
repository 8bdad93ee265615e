from __future__ import annotations

from django.middleware.locale import LocaleMiddleware
from django.utils.cache import add_never_cache_headers

# Pages and API responses that carry residents' records (issue 20.1): never stored by a
# browser or a proxy (Cache-Control: no-store, private).
PERSONAL_PREFIXES = ("/care/", "/api/v1/care/", "/registers/", "/api/v1/registers/")


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise (the language cookie set by the switcher).

    The browser's Accept-Language is ignored: bureau staff share machines whose browsers are
    often set to English, and the interface of record is Chinese."""

    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class PersonalNoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(PERSONAL_PREFIXES):
            add_never_cache_headers(response)
        return response
