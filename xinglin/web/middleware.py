from __future__ import annotations

from django.middleware.locale import LocaleMiddleware


class DefaultChineseLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise (the language cookie set by the switcher).

    The browser's Accept-Language is ignored: bureau staff share machines whose browsers are
    often set to English, and the interface of record is Chinese."""

    def process_request(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
