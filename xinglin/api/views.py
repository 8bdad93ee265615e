"""The personal tokens page: create (the token is shown once) and revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinglin.api import actions


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “regional platform sync”"),
    )


@login_required
def tokens(request):
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        _row, created = actions.create_token(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {"form": form, "created": created, "tokens": request.user.api_tokens.all()}
    return render(request, "api/tokens.html", context)


@login_required
@require_POST
def revoke(request, token_id: int):
    if actions.revoke_token(request.user, token_id):
        messages.success(request, _("The token is revoked."))
    return redirect("api-tokens")
