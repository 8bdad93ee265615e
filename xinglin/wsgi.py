from __future__ import annotations

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinglin.settings")
application = get_wsgi_application()

# The web workers' garbage collector (issue 25 W7). A worker keeps its scorecards and
# evaluations cached (decision 0003): millions of objects that a full collection walks while
# every thread of the worker waits (0.3-1.8 s each at month-end, a few a minute). What Django
# loaded at start lives as long as the worker: frozen, no collection walks it again; and the
# young generations are collected less often, so that a request's objects in flight are
# rarely promoted into the old generation, whose growth is what starts a full collection.
gc.freeze()
gc.set_threshold(20_000, 10, 50)
