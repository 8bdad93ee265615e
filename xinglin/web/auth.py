"""Login with throttling and audit; logout with audit."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xinglin.web.models import EventKind
from xinglin.web.security import LOCKOUT_WINDOW, client_ip, is_locked_out, record_event


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed logins. Try again in %(minutes)s minutes, or ask the bureau "
            "administrator to reset your password."
        ),
    }

    def clean(self):
        username = (self.data.get("username") or "").strip()
        ip = client_ip(self.request)
        if is_locked_out(username, ip):
            record_event(EventKind.LOCKED_OUT, request=self.request, username=username)
            raise forms.ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": int(LOCKOUT_WINDOW.total_seconds() // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_event(EventKind.LOGIN_FAILED, request=self.request, username=username)
            raise
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm

    def form_valid(self, form):
        response = super().form_valid(form)
        record_event(EventKind.LOGIN, request=self.request, user=form.get_user())
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            record_event(EventKind.LOGOUT, request=request)
        return super().post(request, *args, **kwargs)
