"""The adoption page, under /standards/ where it has always been (it lives in plans because it
shows and loads the plans of the adopted documents). Public URLs:

- /standards/adoption/[?orgunit=<code>]   standards:adoption — which documents judge a unit;
                                          a bureau administrator adopts or withdraws them
- /standards/targets/[?orgunit=&year=]   standards:targets — the local health plan's values a
                                          bureau sets for its place and year (issue 24.6)
"""

from __future__ import annotations

from django.urls import path

from xinglin.plans import adoption_views as views
from xinglin.standards import targets

app_name = "standards"
urlpatterns = [
    path("adoption/", views.adoption, name="adoption"),
    path("targets/", targets.targets, name="targets"),
]
