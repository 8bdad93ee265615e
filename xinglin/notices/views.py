from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from xinglin.collection import completeness
from xinglin.collection.forms import get_form
from xinglin.lib import periods
from xinglin.notices import actions
from xinglin.notices.models import Notice


@login_required
def notices(request):
    rows = list(Notice.objects.filter(user=request.user).select_related("sender")[:100])
    actions.mark_read(request.user)
    return render(request, "notices/notices.html", {"rows": rows})


@login_required
@require_POST
def remind(request):
    """催报 from the completeness page: the clerks who have not reported this form."""
    try:
        form = get_form(request.POST.get("form", ""))
        period = periods.parse(request.POST.get("period", ""))
    except (KeyError, periods.PeriodError):
        raise Http404("form") from None
    if period.type != form.period_type:
        raise Http404("period")
    report = completeness.report(form, period.code, request.user)
    count = actions.remind_missing_reporters(report, sender=request.user)
    messages.success(
        request,
        ngettext("%(n)s clerk was reminded.", "%(n)s clerks were reminded.", count) % {"n": count},
    )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = "collection:completeness"
    return redirect(back)
