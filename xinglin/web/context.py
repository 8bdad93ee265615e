"""Navigation shown on every page; each app adds its entry to NAVIGATION."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from xinglin.network import access
from xinglin.web.accounts import is_user_admin

# (url name, label). Entries whose url is not installed yet are left out.
NAVIGATION = [
    ("home", _("Overview")),
    ("network:tree", _("Service network")),
    ("evaluation:scorecard", _("Scorecard")),
    ("collection:forms", _("Data entry")),
    ("care:home", _("Key populations")),
    ("plans:home", _("Plans and tasks")),
    ("registers:index", _("Registers")),
    ("surveys:home", _("Surveys")),
    ("documents:home", _("Reports")),
    ("standards:adoption", _("Documents applied")),
]


# Entries a user without any org unit in view (a department liaison) still has.
WITHOUT_SCOPE = {"home", "plans:home"}


def navigation(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"navigation": []}

    has_scope = access.scope_paths(request.user, "view") != []
    items = []
    for name, label in NAVIGATION:
        if not has_scope and name not in WITHOUT_SCOPE:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "url": url,
                "label": label,
                "active": request.path.startswith(url) and (url != "/" or request.path == "/"),
            }
        )

    return {"navigation": items, "user_admin": is_user_admin(request.user)}
