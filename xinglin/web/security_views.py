from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from xinglin.core.models import SecurityEvent
from xinglin.network import access
from xinglin.network.models import Membership, Role


@login_required
def events(request):
    """The security log for a bureau administrator: events of the users within their scope."""
    is_admin = Membership.objects.filter(user=request.user, role=Role.BUREAU_ADMIN).exists()
    if not (is_admin or request.user.is_superuser):
        raise PermissionDenied
    rows = SecurityEvent.objects.select_related("user", "orgunit")
    if not request.user.is_superuser:
        users = Membership.objects.filter(
            access.scope_q(request.user, "manage", field="orgunit__path")
        ).values("user")
        names = Membership.objects.filter(user__in=users).values("user__username")
        rows = rows.filter(Q(user__in=users) | Q(username__in=names))
    if kind := request.GET.get("kind"):
        rows = rows.filter(kind=kind)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "web/security_events.html", {"page": page, "kind": kind})
