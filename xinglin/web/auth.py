"""Login with throttling and audit; logout with audit."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from xinglin.core.login import ThrottledAuthenticationForm
from xinglin.core.models import EventKind
from xinglin.core.security import record_event


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
