"""Issue 21.4: 催报 on the completeness page notifies the clerks who have not reported, in the
app and by e-mail where configured; only within the sender's approval scope."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from xinglin.notices.models import Notice

FORM = {"form": "township_health_center.monthly", "period": "202401"}


def test_a_supervisor_reminds_the_clerk_who_has_not_reported(
    client_for, catalogue, bob, carol, settings
):
    settings.EMAIL_HOST = "smtp.example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    carol.email = "carol@example.org"
    carol.save()
    response = client_for(bob).post(reverse("notices:remind"), FORM)
    assert response.status_code == 302
    [notice] = Notice.objects.filter(user=carol)
    assert notice.link == "/collection/640323100001/202401/"
    assert "202401" in notice.text and notice.sender == bob
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    page = client_for(carol).get(reverse("home")).content.decode()
    assert 'class="tag unread-count">1<' in page
    listing = client_for(carol).get(reverse("notices:list")).content.decode()
    assert notice.text.split("（")[0][:10] in listing
    assert Notice.objects.get(pk=notice.pk).read_at is not None


def test_no_one_outside_the_approval_scope_is_reminded(client_for, catalogue, dave, carol):
    client_for(dave).post(reverse("notices:remind"), FORM)  # dave supervises 大水坑镇
    client_for(carol).post(reverse("notices:remind"), FORM)  # a clerk approves nothing
    assert not Notice.objects.filter(user=carol).exists()
    assert not mail.outbox  # no SMTP host configured: in-app only


def test_the_completeness_page_offers_the_reminder(client_for, catalogue, bob):
    page = client_for(bob).get(
        reverse("collection:completeness") + "?form={form}&period={period}".format(**FORM)
    )
    assert 'id="remind"' in page.content.decode()
