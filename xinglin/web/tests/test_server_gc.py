"""The web workers' garbage collector (issue 25 W7, xinglin/wsgi.py): what Django loaded at
start is frozen out of every collection, and the young generations are collected less often,
so that a worker's full collections (which walk its cached scorecards while every thread
waits) come rarely. Checked in a process that loads the application as gunicorn does."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

PROBE = (
    "import gc, json, xinglin.wsgi as w; "
    "print(json.dumps([list(gc.get_threshold()), gc.get_freeze_count(), callable(w.application)]))"
)


def test_a_web_worker_loads_the_application_with_its_start_frozen_and_fewer_collections():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "xinglin.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    threshold, frozen, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded
    assert frozen > 10_000  # Django and the apps' modules, settings and URL patterns
    assert threshold[0] > gc.get_threshold()[0] and threshold[2] > gc.get_threshold()[2]
    assert threshold == [20_000, 10, 50]
