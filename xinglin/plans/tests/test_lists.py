"""Issue 21.4: the task list and the evidence list search, filter and page on the server, with
a number of queries that does not grow with the rows; each row opens its detail."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinglin.plans.actions import review_evidence, upload_evidence
from xinglin.plans.models import Evidence, Task
from xinglin.plans.tests.conftest import pdf_bytes
from xinglin.plans.views import PAGE_SIZE

PACK = "demo-county-2022"
ITEM = "organisation.development_plan"
TASK = "三(二)1"  # led by education_sports (eve)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


_SERIAL = itertools.count()


def _more_tasks(plan, n: int) -> None:
    Task.objects.bulk_create(
        Task(plan=plan, number=f"附{i}", title_zh=f"补充任务{i}", position=1000 + i)
        for i in [next(_SERIAL) for _ in range(n)]
    )


@pytest.mark.parametrize(
    "query, numbers",
    [
        ("q=覆盖面", ["三(二)1"]),  # words of the title
        ("q=中医康复", ["三(一)1", "三(四)1", "三(四)2", "三(四)3"]),
        ("q=三(二)", ["三(二)1", "三(二)2", "三(二)3", "三(二)4"]),  # the number
        ("q=三(二)&department=education_sports", ["三(二)1", "三(二)2"]),
        ("q=没有这样的任务", []),
    ],
)
def test_the_task_list_searches_titles_and_numbers(plan, alice, client_for, query, numbers):
    response = client_for(alice).get(reverse("plans:tasks", args=[plan.pk]) + "?" + query)
    assert [t.number for t in response.context["tasks"]] == numbers


def test_the_task_list_pages_on_the_server_and_rows_open_the_task(plan, alice, client_for):
    _more_tasks(plan, PAGE_SIZE)
    client = client_for(alice)
    url = reverse("plans:tasks", args=[plan.pk])
    first = client.get(url)
    assert len(first.context["tasks"]) == PAGE_SIZE
    assert first.context["page"].paginator.count == 17 + PAGE_SIZE
    second = client.get(url + "?page=2")
    assert len(second.context["tasks"]) == 17
    assert not {t.pk for t in first.context["tasks"]} & {t.pk for t in second.context["tasks"]}
    task = first.context["tasks"][0]
    html = first.content.decode()
    assert f'data-href="{reverse("plans:task", args=[task.pk])}"' in html
    assert "page=2" in html  # the pager
    # the CSV twin is the whole filtered list, not a page
    rows = client.get(reverse("plans:tasks_export", args=[plan.pk, "json"])).json()["rows"]
    assert len(rows) == 17 + PAGE_SIZE


def test_the_task_list_queries_do_not_grow_with_rows(plan, alice, client_for):
    client = client_for(alice)
    url = reverse("plans:tasks", args=[plan.pk]) + "?q=任务"
    _more_tasks(plan, 3)
    few = _queries(client, url)
    _more_tasks(plan, 40)
    assert _queries(client, url) == few <= 13


def _evidence(plan, eve, alice, county):
    """Four files: two on a task (2024 accepted, 2025 pending), two on an item (2023 records,
    rejected; a standing document valid from 2024, pending)."""
    task = plan.tasks.get(number=TASK)
    a = upload_evidence(orgunit=county, task=task, name="五进2024.pdf", content=pdf_bytes("a"),
                        user=eve, period=(date(2024, 1, 1), date(2024, 12, 31)))  # fmt: skip
    review_evidence(a, user=alice, accept=True)
    upload_evidence(orgunit=county, task=task, name="五进2025.pdf", content=pdf_bytes("b"),
                    user=eve, description="第二批", period=(date(2025, 1, 1), date(2025, 12, 31)))  # fmt: skip
    c = upload_evidence(orgunit=county, pack=PACK, indicator=ITEM, name="规划2023.pdf",
                        content=pdf_bytes("c"), user=alice,
                        period=(date(2023, 1, 1), date(2023, 12, 31)))  # fmt: skip
    review_evidence(c, user=alice, accept=False, comment="不全")
    upload_evidence(orgunit=county, pack=PACK, indicator=ITEM, name="规划文件.pdf",
                    content=pdf_bytes("d"), user=alice, period=(date(2024, 6, 1), None))  # fmt: skip
    return task


@pytest.mark.parametrize(
    "query, names",
    [
        ("", ["规划文件.pdf", "规划2023.pdf", "五进2025.pdf", "五进2024.pdf"]),
        ("status=pending", ["规划文件.pdf", "五进2025.pdf"]),
        ("status=rejected", ["规划2023.pdf"]),
        ("year=2024", ["规划文件.pdf", "五进2024.pdf"]),
        ("year=2025", ["规划文件.pdf", "五进2025.pdf"]),
        ("year=2023", ["规划2023.pdf"]),
        (f"item={PACK}/{ITEM}", ["规划文件.pdf", "规划2023.pdf"]),
        ("q=第二批", ["五进2025.pdf"]),  # the description
        ("q=五进", ["五进2025.pdf", "五进2024.pdf"]),  # the file name
        ("q=覆盖面", ["五进2025.pdf", "五进2024.pdf"]),  # the task's title
        ("status=pending&year=2025&q=五进", ["五进2025.pdf"]),
    ],
)
def test_the_evidence_list_filters(plan, eve, alice, county, client_for, query, names):
    _evidence(plan, eve, alice, county)
    response = client_for(alice).get(reverse("plans:evidence") + "?" + query)
    assert [e.name for e, _home, _supports in response.context["rows"]] == names


def test_the_evidence_list_year_filter_agrees_with_the_coverage_rule(
    plan, eve, alice, county, client_for
):
    _evidence(plan, eve, alice, county)
    client = client_for(alice)
    for year in (2022, 2023, 2024, 2025, 2026):
        listed = client.get(reverse("plans:evidence") + f"?year={year}").context["rows"]
        assert {e.pk for e, _h, _s in listed} == {
            e.pk for e in Evidence.objects.all() if e.covers(year)
        }


def test_the_evidence_list_is_scoped_and_rows_open_the_task_or_item(
    plan, eve, finn, alice, county, client_for
):
    task = _evidence(plan, eve, alice, county)
    # the liaison sees their department's task evidence, not the county's item evidence
    rows = client_for(eve).get(reverse("plans:evidence")).context["rows"]
    assert sorted(e.name for e, _h, _s in rows) == ["五进2024.pdf", "五进2025.pdf"]
    assert {home for _e, home, _s in rows} == {reverse("plans:task", args=[task.pk])}
    assert {supports for _e, _h, supports in rows} == {f"{task.number} {task.title}"}
    # another department's liaison sees none of it
    assert client_for(finn).get(reverse("plans:evidence")).context["rows"] == []
    response = client_for(alice).get(reverse("plans:evidence") + f"?item={PACK}/{ITEM}")
    homes = {home for _e, home, _s in response.context["rows"]}
    assert homes == {reverse("plans:items", args=["640323", PACK]) + f"#item-{ITEM}"}
    html = response.content.decode()
    assert "中医药工作纳入国民经济和社会发展规划" in html  # the item by name
    assert f'data-href="{reverse("plans:items", args=["640323", PACK])}#item-{ITEM}"' in html


def test_the_evidence_list_pages_with_fixed_queries(plan, eve, alice, county, client_for):
    task = plan.tasks.get(number=TASK)
    client = client_for(alice)

    def add(n):
        for i in range(n):
            upload_evidence(orgunit=county, task=task, name=f"材料{i}.pdf",
                            content=pdf_bytes(str(i)), user=eve)  # fmt: skip

    add(2)
    few = _queries(client, reverse("plans:evidence"))
    add(PAGE_SIZE)
    assert _queries(client, reverse("plans:evidence")) == few <= 12
    response = client.get(reverse("plans:evidence"))
    assert len(response.context["rows"]) == PAGE_SIZE
    assert response.context["page"].paginator.count == PAGE_SIZE + 2
    assert len(client.get(reverse("plans:evidence") + "?page=2").context["rows"]) == 2
