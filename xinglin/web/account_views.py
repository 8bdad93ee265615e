"""Pages of the accounts: one's own password; users, roles and tokens for the bureau
administrator within their scope (issue 20.4). Thin views over xinglin.web.accounts."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinglin.network.models import Role
from xinglin.web import accounts


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)
    orgunit = forms.ChoiceField(label=gettext_lazy("Unit"))
    department = forms.CharField(
        label=gettext_lazy("Department (liaisons)"), max_length=50, required=False
    )

    def __init__(self, *args, admin, **kwargs):
        super().__init__(*args, **kwargs)
        units = accounts.units_for_admin(admin).order_by("path")[:5000]
        self.fields["orgunit"].choices = [(u.code, f"{u.name} ({u.code})") for u in units]
        self.units = {u.code: u for u in units}

    def unit(self):
        return self.units[self.cleaned_data["orgunit"]]


class NewUserForm(RoleForm):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150, required=False)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput)
    field_order = ["username", "full_name", "password", "role", "orgunit", "department"]


class ResetForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("New password"), widget=forms.PasswordInput)


def _require_admin(user) -> None:
    if not accounts.is_user_admin(user):
        raise PermissionDenied


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accounts.change_own_password(request.user, form.cleaned_data["new_password1"])
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password is changed; your API tokens are revoked."))
        return redirect("home")
    return render(request, "web/password_change.html", {"form": form})


@login_required
def users(request):
    _require_admin(request.user)
    form = NewUserForm(request.POST or None, admin=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = accounts.create_account(
                request.user, username=data["username"], password=data["password"],
                role=data["role"], orgunit=form.unit(), department=data["department"],
                full_name=data["full_name"],
            )  # fmt: skip
        except accounts.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("User created."))
            return redirect("account_user", user.pk)
    rows = accounts.users_for_admin(request.user).prefetch_related("memberships__orgunit")
    return render(request, "web/users.html", {"users": rows, "form": form})


@login_required
def user(request, pk: int):
    managed = accounts.get_user_for_admin(request.user, pk)
    membership = managed.memberships.select_related("orgunit").first()
    initial = (
        {
            "role": membership.role,
            "orgunit": membership.orgunit.code,
            "department": membership.department,
        }  # fmt: skip
        if membership
        else {}
    )
    role_form = RoleForm(initial=initial, admin=request.user)
    reset_form = ResetForm()
    if request.method == "POST":
        try:
            if "role" in request.POST:
                role_form = RoleForm(request.POST, admin=request.user)
                if role_form.is_valid():
                    data = role_form.cleaned_data
                    accounts.set_role(request.user, managed, role=data["role"],
                                      orgunit=role_form.unit(), department=data["department"])  # fmt: skip
                    messages.success(request, _("Role changed."))
                    return redirect("account_user", pk)
            elif "password" in request.POST:
                reset_form = ResetForm(request.POST)
                if reset_form.is_valid():
                    accounts.reset_password(
                        request.user, managed, reset_form.cleaned_data["password"]
                    )
                    messages.success(
                        request, _("Password reset; the user's API tokens are revoked.")
                    )
                    return redirect("account_user", pk)
            elif "active" in request.POST:
                accounts.set_active(request.user, managed, request.POST["active"] == "1")
                messages.success(request, _("Saved."))
                return redirect("account_user", pk)
        except accounts.AccountError as error:
            messages.error(request, str(error))
    context = {
        "managed": managed,
        "membership": membership,
        "role_form": role_form,
        "reset_form": reset_form,
        "tokens": accounts.tokens_for_admin(request.user).filter(user=managed),
    }
    return render(request, "web/user.html", context)


@login_required
@require_POST
def token_revoke(request, pk: int, token_id: int):
    accounts.get_user_for_admin(request.user, pk)
    if accounts.revoke_token_of(request.user, token_id):
        messages.success(request, _("The token is revoked."))
    return redirect("account_user", pk)


@login_required
def tokens(request):
    """Every API token of the users in the administrator's scope."""
    _require_admin(request.user)
    rows = accounts.tokens_for_admin(request.user).order_by("user__username", "-created_at")
    return render(request, "web/tokens.html", {"tokens": rows})
