"""W4: 50 concurrent users on the dashboard and the scorecard of the demo county.

Builds the demo in a temporary var dir (kept under var/bench/w4 between runs), starts
`xinglin serve` (gunicorn, the production setup) on 127.0.0.1, logs in USERS users (the demo's
bureau login, one session each) and lets each one alternate between `/` and `/evaluation/`
with a think time, for a bounded number of requests and a bounded duration. Prints p50, p95,
max and errors, then a saturation run without think time (the throughput ceiling).

    .venv/bin/python bench/bench_w4_web.py [--users 50] [--requests 20] [--think 1.0]

Loopback only (127.0.0.1); every bound is checked before the run starts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench" / "w4"
HOST, PORT = "127.0.0.1", 8765
PAGES = ("/", "/evaluation/")
MAX_USERS, MAX_REQUESTS, MAX_SECONDS = 200, 200, 300  # hard bounds of one run
PASSWORD = "Xinglin-2026"
TIMEOUT = 30.0


def main() -> None:
    args = _arguments()
    env = {**os.environ, "XINGLIN_VAR_DIR": str(VAR), "XINGLIN_ALLOWED_HOSTS": HOST}
    _build_demo(env)
    server = _serve(env, args.workers, args.threads)
    try:
        _wait_until_up()
        sessions = [_login("bureau") for _ in range(args.users)]
        for cookie in sessions[:4]:  # warm every worker: imports, compiled SQL, first cache fill
            for _ in range(args.workers * 2):
                for page in PAGES:
                    _get(page, cookie)
        print(f"W4: {args.users} users, {args.requests} requests each, think {args.think} s,"
              f" {args.workers} workers x {args.threads} threads")  # fmt: skip
        for label, requests, think in (
            ("with think time", args.requests, args.think),
            ("saturation (no think time)", max(args.requests // 4, 2), 0.0),
        ):
            cpu = _server_cpu(server.pid)
            run = _run(sessions, requests, think)
            _report(label, run, _server_cpu(server.pid) - cpu)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per user")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("XINGLIN_WORKERS", "3")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("XINGLIN_THREADS", "4")))
    args = parser.parse_args()
    if not (0 < args.users <= MAX_USERS and 0 < args.requests <= MAX_REQUESTS):
        sys.exit(f"bounds: users <= {MAX_USERS}, requests <= {MAX_REQUESTS}")
    return args


def _xinglin(env, *command: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/xinglin"), *command], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def _build_demo(env) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    fresh = not (VAR / "xinglin.sqlite3").exists()
    started = time.perf_counter()
    _xinglin(env, "migrate", "-v0")
    if fresh:
        _xinglin(env, "demo")
    print(f"demo county in {VAR} ({'built' if fresh else 'reused'},"
          f" {time.perf_counter() - started:.0f} s)")  # fmt: skip


def _serve(env, workers: int, threads: int) -> subprocess.Popen:
    env = {**env, "XINGLIN_WORKERS": str(workers), "XINGLIN_THREADS": str(threads)}
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/xinglin"), "serve", "--bind", f"{HOST}:{PORT}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_until_up() -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _request("GET", "/login/")
            return
        except OSError:
            time.sleep(0.3)
    sys.exit("the server did not start within 60 s")


def _request(method: str, path: str, body: str = "", headers=None):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def _cookies(headers) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key] = rest.split(";")[0]
    return found


def _login(username: str) -> str:
    status, headers, body = _request("GET", "/login/")
    cookies = _cookies(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = f"username={username}&password={PASSWORD}&csrfmiddlewaretoken={token}"
    status, headers, _ = _request("POST", "/login/", form, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookies['csrftoken']}",
        "Referer": f"http://{HOST}:{PORT}/login/",
    })  # fmt: skip
    session = _cookies(headers).get("sessionid")
    if status != 302 or not session:
        sys.exit(f"login of {username} failed: HTTP {status}")
    return f"sessionid={session}"


def _get(path: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    status, _headers, _body = _request("GET", path, headers={"Cookie": cookie})
    return status, time.perf_counter() - started


def _run(sessions: list[str], requests: int, think: float) -> dict:
    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + MAX_SECONDS

    def user(index: int, cookie: str) -> None:
        rng = random.Random(index)
        time.sleep(rng.uniform(0, think))  # users do not all arrive in the same millisecond
        for n in range(requests):
            if time.monotonic() > deadline:
                return
            page = PAGES[(index + n) % len(PAGES)]
            try:
                status, seconds = _get(page, cookie)
                with lock:
                    timings.append(seconds)
                    if status != 200:
                        errors.append(f"{page}: HTTP {status}")
            except OSError as error:
                with lock:
                    errors.append(f"{page}: {error}")
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(i, c)) for i, c in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"timings": timings, "errors": errors, "seconds": time.perf_counter() - started}


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the gunicorn workers (children of the master `pid`), from
    /proc: the machine is shared, so wall-clock latency alone would hide what a request costs."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def _report(label: str, run: dict, cpu: float) -> None:
    timings = sorted(run["timings"])
    if not timings:
        print(f"  {label}: no requests completed; errors: {run['errors'][:3]}")
        return
    p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
    print(f"  {label}: {len(timings)} requests in {run['seconds']:.1f} s"
          f" ({len(timings) / run['seconds']:.0f}/s), p50 {statistics.median(timings) * 1000:.0f}"
          f" ms, p95 {p95 * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms,"
          f" errors {len(run['errors'])}{' ' + str(run['errors'][:3]) if run['errors'] else ''};"
          f" server CPU {cpu * 1000 / len(timings):.0f} ms per request")  # fmt: skip


if __name__ == "__main__":
    main()
