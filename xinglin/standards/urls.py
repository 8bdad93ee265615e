"""Standards pages. Public URLs:

- /standards/adoption/[?orgunit=<code>]   standards:adoption — which documents judge a unit;
                                          a bureau administrator adopts or withdraws them
"""

from __future__ import annotations

from django.urls import path

from xinglin.standards import views

app_name = "standards"
urlpatterns = [
    path("adoption/", views.adoption, name="adoption"),
]
