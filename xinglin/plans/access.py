"""Who may see and change plans, tasks, evidence and rectification tasks.

Org-unit scope comes from xinglin.network.access (the one place it is decided); this module
adds the department dimension of a department liaison (Membership role department_liaison
with a department code): a liaison sees and updates only the tasks their department leads or
supports, in the plans of the org unit of their membership (and beneath it).

- view: network `view` over the plan's org unit, or a liaison of a lead/supporting department;
- update (status, comments, evidence upload): network `manage`, or such a liaison;
- manage (load/import a plan, review evidence, milestones, rectification): network `manage`.
Outside the view scope a lookup is a 404; visible but not allowed is a 403."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from xinglin.network import access
from xinglin.network.models import Membership, OrgUnit, Role
from xinglin.plans.models import Evidence, Plan, RectificationTask, Task

TaskAction = Literal["view", "update", "manage"]
AnyUser = User | AnonymousUser


def liaison_scopes(user: AnyUser) -> list[tuple[str, str]]:
    """(org-unit path, department code) of each of the user's liaison memberships."""
    if not user.is_authenticated or not user.is_active:
        return []
    # Asked several times per page; the user object lives for one request (as the network
    # scope paths, xinglin.network.access.scope_paths).
    if "_xinglin_liaison_scopes" not in user.__dict__:
        memberships = Membership.objects.filter(
            user=user, role=Role.DEPARTMENT_LIAISON
        ).select_related("orgunit")
        user.__dict__["_xinglin_liaison_scopes"] = [
            (m.orgunit.path, m.department) for m in memberships if m.department
        ]
    return list(user.__dict__["_xinglin_liaison_scopes"])


def liaison_departments(user: AnyUser, orgunit: OrgUnit) -> set[str]:
    """The departments the user is liaison of for the plans of `orgunit`."""
    return {dept for path, dept in liaison_scopes(user) if orgunit.path.startswith(path)}


def is_liaison(user: AnyUser) -> bool:
    return bool(liaison_scopes(user))


def _department_task_q(user: AnyUser) -> Q:
    query = Q(pk__in=[])
    for path, dept in liaison_scopes(user):
        of_department = Task.objects.filter(Q(lead__code=dept) | Q(support__code=dept))
        query |= Q(plan__orgunit__path__startswith=path, pk__in=of_department.values("pk"))
    return query


def plans_for_user(user: AnyUser) -> QuerySet[Plan]:
    query = access.scope_q(user, "view", "orgunit__path")
    for path, _dept in liaison_scopes(user):
        query |= Q(orgunit__path__startswith=path)
    return Plan.objects.filter(query).select_related("orgunit")


def tasks_for_user(user: AnyUser) -> QuerySet[Task]:
    query = access.scope_q(user, "view", "plan__orgunit__path") | _department_task_q(user)
    return Task.objects.filter(query)


def can_view_orgunit(user: AnyUser, orgunit: OrgUnit) -> bool:
    return access.can(user, "view", orgunit)


def visible_milestones(user: AnyUser, milestones: QuerySet, plans) -> QuerySet:
    """Milestones of `plans` the user may see: all of a plan whose org unit they may view,
    else those of their liaison departments."""
    query = Q(pk__in=[])
    for plan in plans:
        if access.can(user, "view", plan.orgunit):
            query |= Q(plan=plan)
        elif departments := liaison_departments(user, plan.orgunit):
            query |= Q(plan=plan, departments__code__in=departments)
    return milestones.filter(query).distinct()


def can_manage(user: AnyUser, orgunit: OrgUnit) -> bool:
    return access.can(user, "manage", orgunit)


def task_departments(task: Task) -> set[str]:
    return {d.code for d in task.lead.all()} | {d.code for d in task.support.all()}


def can_task(user: AnyUser, action: TaskAction, task: Task) -> bool:
    orgunit = task.plan.orgunit
    if can_manage(user, orgunit):
        return True
    if action == "manage":
        return False
    if liaison_departments(user, orgunit) & task_departments(task):
        return True
    return action == "view" and access.can(user, "view", orgunit)


def get_plan_for_user(user: AnyUser, pk: int, manage: bool = False) -> Plan:
    plan = plans_for_user(user).filter(pk=pk).first()
    if plan is None:
        raise Http404(pk)
    if manage and not can_manage(user, plan.orgunit):
        raise PermissionDenied(pk)
    return plan


def get_task_for_user(user: AnyUser, pk: int, action: TaskAction = "view") -> Task:
    task = Task.objects.filter(pk=pk).select_related("plan__orgunit", "phase").first()
    if task is None or not can_task(user, "view", task):
        raise Http404(pk)
    if action != "view" and not can_task(user, action, task):
        raise PermissionDenied(pk)
    return task


def can_view_evidence(user: AnyUser, evidence: Evidence) -> bool:
    if evidence.task_id is not None:
        return can_task(user, "view", evidence.task)
    return access.can(user, "view", evidence.orgunit)


def evidence_for_user(user: AnyUser) -> QuerySet[Evidence]:
    """The evidence the user may see (can_view_evidence as a query): of the tasks they see,
    and of the items of the org units they view."""
    of_tasks = Q(task__in=tasks_for_user(user))
    of_items = Q(task__isnull=True) & access.scope_q(user, "view", "orgunit__path")
    return Evidence.objects.filter(of_tasks | of_items)


def get_evidence_for_user(user: AnyUser, pk: int, review: bool = False) -> Evidence:
    evidence = Evidence.objects.filter(pk=pk).select_related("task__plan__orgunit", "orgunit")
    evidence = evidence.first()
    if evidence is None or not can_view_evidence(user, evidence):
        raise Http404(pk)
    if review and not can_manage(user, evidence.orgunit):
        raise PermissionDenied(pk)
    return evidence


def rectifications_for_user(user: AnyUser) -> QuerySet[RectificationTask]:
    query = access.scope_q(user, "view", "orgunit__path")
    for path, dept in liaison_scopes(user):
        query |= Q(orgunit__path__startswith=path, owner__code=dept)
    return RectificationTask.objects.filter(query).select_related("orgunit", "owner")


def get_rectification_for_user(user: AnyUser, pk: int, action: TaskAction = "view"):
    item = rectifications_for_user(user).filter(pk=pk).first()
    if item is None:
        raise Http404(pk)
    if action == "manage" and not can_manage(user, item.orgunit):
        raise PermissionDenied(pk)
    if action == "update" and not (
        can_manage(user, item.orgunit) or item.owner.code in liaison_departments(user, item.orgunit)
    ):
        raise PermissionDenied(pk)
    return item


def get_orgunit_for_user(user: AnyUser, code: str, manage: bool = False) -> OrgUnit:
    return access.get_orgunit_for_user(user, code, "manage" if manage else "view")
