from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Xinglin with gunicorn (static files through whitenoise)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("XINGLIN_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("XINGLIN_WORKERS", "3"))
        )
        # threads per worker (gunicorn's gthread worker): a request waiting on the database
        # does not hold a whole process; bench/bench_w4_web.py measured the default
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("XINGLIN_THREADS", "4"))
        )

    def handle(self, *args, bind, workers, threads, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Xinglin is at http://{bind}/  (Ctrl-C stops it)")
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        # the background document generators (xinglin/documents/pool.py): a process of their
        # own, ending when the server (this process id, kept by execv) ends
        xinglin = os.path.join(os.path.dirname(sys.executable), "xinglin")
        subprocess.Popen([xinglin, "document_worker", "--parent", str(os.getpid())])
        if settings.WAREHOUSE_FRESH:
            # the warehouse copy kept fresh (xinglin/warehouse/fresh.py), once one is exported
            subprocess.Popen([xinglin, "warehouse", "maintain", "--parent", str(os.getpid())])
        os.execv(
            gunicorn,
            [
                gunicorn,
                "xinglin.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--access-logfile",
                "-",
                "--chdir",
                str(settings.PROJECT_DIR),
            ],
        )
