"""Plan pages. Public URLs others link to:

- /plans/                         plans:home
- /plans/rectification/new/?pack=<pack>&indicator=<indicator id>&orgunit=<code>[&period=<period>&value=<value>]
                                  plans:rectification_new — the scorecard's "create a rectification
                                  task" link for a failing indicator (one step: fill owner, measure,
                                  deadline and submit)
- /plans/evidence/?item=<pack>/<indicator id>&year=<year>&status=<status>&q=<words>
                                  plans:evidence — the evidence the user may see, filtered, paged
- /plans/items/<orgunit>/<pack>/?year=<year>  plans:items — a pack's evidence items with their
  status for a county in a year (by default last year, the scorecard's default)
"""

from __future__ import annotations

from django.urls import path

from xinglin.plans import views

app_name = "plans"
urlpatterns = [
    path("", views.home, name="home"),
    path("due/", views.due, name="due"),
    path("<int:pk>/", views.plan, name="plan"),
    path("<int:pk>/timeline.<str:fmt>", views.timeline_export, name="timeline_export"),
    path("<int:pk>/tasks/", views.task_list, name="tasks"),
    path("<int:pk>/tasks.<str:fmt>", views.task_list, name="tasks_export"),
    path("<int:pk>/assignment.xlsx", views.plan_xlsx, name="xlsx"),
    path("<int:pk>/import/", views.plan_import, name="import"),
    path("tasks/<int:pk>/", views.task, name="task"),
    path("tasks/<int:pk>/status/", views.task_status, name="task_status"),
    path("tasks/<int:pk>/comment/", views.task_comment, name="task_comment"),
    path("tasks/<int:pk>/evidence/", views.task_evidence, name="task_evidence"),
    path("evidence/", views.evidence_list, name="evidence"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/review/", views.evidence_review, name="evidence_review"),
    path("evidence/<int:pk>/withdraw/", views.evidence_withdraw, name="evidence_withdraw"),
    path("milestones/<int:pk>/done/", views.milestone_done, name="milestone_done"),
    path("departments/<str:orgunit>/<str:code>/", views.department, name="department"),
    path("items/<str:orgunit>/<str:pack>/", views.items, name="items"),
    path(
        "items/<str:orgunit>/<str:pack>/<str:indicator>/upload/",
        views.item_upload,
        name="item_upload",
    ),
    path("rectification/", views.rectifications, name="rectifications"),
    path("rectification/new/", views.rectification_new, name="rectification_new"),
    path("rectification/<int:pk>/", views.rectification, name="rectification"),
]
