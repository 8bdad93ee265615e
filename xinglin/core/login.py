"""The throttled login check, shared by the web login and the API's Basic authentication
(one lockout per name, one delay per address: xinglin.core.security)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xinglin.core.models import EventKind
from xinglin.core.security import (
    LOCKOUT_FAILURES,
    LOCKOUT_WINDOW,
    address_wait,
    client_ip,
    name_failures,
    normalise,
    record_event,
)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed logins. Try again in %(minutes)s minutes, or ask the bureau "
            "administrator to reset your password."
        ),
        "too_fast": _("Too many failed logins from this address. Wait %(seconds)s seconds."),
    }

    def clean(self):
        username = normalise(self.data.get("username") or "")
        ip = client_ip(self.request)
        wait = address_wait(ip)
        if wait:
            record_event(EventKind.LOCKED_OUT, request=self.request, username=username,
                         detail=f"address: wait {wait} s")  # fmt: skip
            raise forms.ValidationError(
                self.error_messages["too_fast"], code="too_fast", params={"seconds": wait}
            )
        # Written before the password is checked, then counted: parallel guesses see each
        # other (at most LOCKOUT_FAILURES reach the check); a success removes it.
        attempt = record_event(EventKind.LOGIN_FAILED, request=self.request, username=username)
        if name_failures(username) > LOCKOUT_FAILURES:
            attempt.delete()
            record_event(EventKind.LOCKED_OUT, request=self.request, username=username)
            raise forms.ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": int(LOCKOUT_WINDOW.total_seconds() // 60)},
            )
        cleaned = super().clean()  # a ValidationError leaves the attempt as a failure
        attempt.delete()
        return cleaned
