"""Benchmark of the scan endpoint under gunicorn (2 sync workers), beside a trivial endpoint,
for every kind of caller the door has.

For each database (SQLite file, PostgreSQL): a fresh database is migrated and seeded with one
event (check-in open) and 2,000 confirmed tickets per caller kind; gunicorn serves the app on
127.0.0.1; then, with 8 concurrent clients (threads, one connection per request as sync workers
close them):

1. first pass: ``POST /api/v1/events/{id}/scans`` for each caller kind's 2,000 distinct tickets
   (all ``ok``);
2. repeat pass: the same tickets again (all ``already_checked_in``);
3. beside each pass, ``GET /api/v1/ping`` (JSON, no database): the trivial endpoint of the
   same app, 2,000 requests.

The caller kinds (``--callers``): ``link`` — a volunteer's scanner link token as Bearer;
``token`` — the organizer's API token as Bearer; ``session`` — the organizer signed in, the
session cookie with the ``X-CSRFToken`` header, as the scanner page at ``/checkin/{id}`` sends.

A pass runs its ping and every caller kind alternately, in slices of 250 requests (ping, link,
token, session, ping, …), so that all meet the same machine: the speed of this kind of VM drifts
by a third within minutes. Ratios are a kind's throughput over the ping's of the same slices.

Server CPU per request: the user + system CPU time the gunicorn workers spent during a kind's
slices (from /proc, Linux), divided by its requests; on PostgreSQL also the database server's
processes' CPU per request.

Each run is repeated ``--runs`` times; medians are printed as a Markdown table
(docs/performance.md).

    .venv/bin/python bench/scan_bench.py [--runs 3] [--db sqlite|postgres|both]
                                         [--callers link,token,session]
"""

from __future__ import annotations

import argparse
import contextlib
import html
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TICKETS = 2000
CLIENTS = 8
WORKERS = 2
PING_REQUESTS = 2000  # beside each pass
SLICES = 8
PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# --------------------------------------------------------------------------- set-up

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(url: str) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, PROFROUTE_ENV="development",
               SECRET_KEY="bench-secret-key-" + "x" * 32,
               PROFROUTE_BASE_URL="http://127.0.0.1")
    return env


def migrate(url: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env_for(url), check=True, capture_output=True)


CALLERS = ("link", "token", "session")
PASSWORD = "bench-password"


def seed(url: str, ticket_count: int = TICKETS * len(CALLERS)) -> dict:
    """One event with check-in open and ``ticket_count`` confirmed tickets; returns their
    tokens, a scanner link's token and the organizer's API token."""
    from checkin.door.links import create_scanner_link
    from models import (
        ApiToken,
        Audience,
        Category,
        Event,
        EventStatus,
        Organization,
        OrgKind,
        Role,
        Student,
        Ticket,
        TicketKind,
        TicketStatus,
        User,
        db,
        now_utc,
    )
    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://",
                                                             "postgresql+psycopg://", 1)})
    with app.app_context():
        organizer_org = Organization(name="ЦПК (замер)", kind=OrgKind.DEPARTMENT)
        schools = [Organization(name=f"МАОУ СОШ № {n} (замер)", short_name=f"СОШ № {n}",
                                kind=OrgKind.SCHOOL) for n in range(1, 41)]
        db.session.add_all([organizer_org, *schools])
        db.session.flush()
        user = User(email="bench@demo.local", role=Role.ORGANIZER, organization=organizer_org,
                    full_name="Замер")
        user.set_password(PASSWORD)
        db.session.add(user)
        start = now_utc() + timedelta(minutes=30)
        event = Event(organizer=organizer_org, title="Городской фестиваль профессий (замер)",
                      category=Category.query.filter_by(code="campaign").one(),
                      audience=Audience.STUDENTS, starts_at=start,
                      ends_at=start + timedelta(hours=8), capacity=ticket_count,
                      status=EventStatus.PUBLISHED, published_at=now_utc())
        db.session.add(event)
        db.session.flush()
        students = [Student(organization_id=schools[n % 40].id, last_name=f"Иванов{n}",
                            first_name="Пётр", class_name="8А", grade=8, ovz=n % 37 == 0)
                    for n in range(ticket_count)]
        db.session.add_all(students)
        db.session.flush()
        tickets = [Ticket(event_id=event.id, kind=TicketKind.STUDENT, student_id=s.id,
                          status=TicketStatus.CONFIRMED) for s in students]
        db.session.add_all(tickets)
        db.session.flush()
        _link, link_token = create_scanner_link(user, event, label="Замер",
                                                gate="Главный вход")
        _api_token, api_token = ApiToken.issue(user, "Замер")
        db.session.commit()
        result = {"event_id": event.id, "tokens": [t.token for t in tickets],
                  "link_token": link_token, "api_token": api_token, "email": user.email}
        db.session.remove()
        db.engine.dispose()
    return result


class Server:
    """gunicorn serving ``app`` (``module:variable``; modules of bench/ importable too)."""

    def __init__(self, url: str, app: str = "wsgi:app"):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-w", str(WORKERS), "-k", "sync",
             "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
             "--pythonpath", str(ROOT / "bench"), app],
            # The access log (gunicorn.conf.py) is written as in production, and dropped.
            cwd=ROOT, env=env_for(url), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = request(self.port, "GET", "/api/v1/ping")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def worker_cpu(self) -> float:
        """CPU seconds (user + system) the gunicorn workers have used so far."""
        return sum(process_cpu(pid) for pid in child_pids(self.proc.pid))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (its backends, writers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += process_cpu(int(entry.name))
            except OSError:
                pass
    return total


def request(port: int, method: str, path: str, body=None,
            headers: dict | None = None, *, full: bool = False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        else:
            data = json.dumps(body).encode() if body is not None else None
            if data:
                headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        if full:
            return response.status, response.read(), response.getheaders()
        return response.status, response.read()
    finally:
        conn.close()


def _cookies(headers: list, jar: dict) -> dict:
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            jar[key] = rest.split(";", 1)[0]
    return jar


def session_headers(port: int, email: str, event_id: int) -> dict:
    """Sign in as the organizer through the login form and open the scanner page, as a browser
    does; the headers the page's scans carry (cookie and X-CSRFToken)."""
    status, page, headers = request(port, "GET", "/login", full=True)
    jar = _cookies(headers, {})
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    form = (f"csrf_token={token}&email={email}&password={PASSWORD}").encode()
    status, _, headers = request(port, "POST", "/login", form, full=True, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    if status != 302:
        raise RuntimeError(f"login failed: {status}")
    _cookies(headers, jar)
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, page, headers = request(port, "GET", f"/checkin/{event_id}", full=True,
                                    headers={"Cookie": cookie})
    _cookies(headers, jar)
    found = re.search(r'csrfToken"\s*:\s*"([^"]+)"', html.unescape(page.decode()))
    if status != 200 or found is None:
        raise RuntimeError(f"scanner page: {status}")
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "X-CSRFToken": found.group(1)}


# --------------------------------------------------------------------------- load

def load(port: int, jobs: list, check) -> dict:
    """Run ``jobs`` (method, path, body, headers) with CLIENTS threads; latency stats (and the
    raw latencies, for :func:`combined`)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(jobs)))

    def worker():
        mine, bad = [], []
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            method, path, body, headers = jobs[index]
            t0 = time.perf_counter()
            try:
                status, payload = request(port, method, path, body, headers)
                ok = check(status, payload)
            except OSError as err:
                ok, status, payload = False, 0, str(err).encode()
            mine.append(time.perf_counter() - t0)
            if not ok:
                bad.append(f"{status} {payload[:120]!r}")
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return summary(latencies, elapsed, errors)


def summary(latencies: list[float], elapsed: float, errors: list[str]) -> dict:
    latencies = sorted(latencies)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50": pct(0.50),
            "p95": pct(0.95), "p99": pct(0.99), "errors": len(errors),
            "error_samples": errors[:3], "elapsed": elapsed, "latencies": latencies,
            "error_list": errors}


def combined(parts: list[dict]) -> dict:
    """Slices of one measurement as one: all latencies, total requests over total time."""
    return summary([x for p in parts for x in p["latencies"]],
                   sum(p["elapsed"] for p in parts),
                   [e for p in parts for e in p["error_list"]])


def alternately(server: Server, jobs: dict, checks: dict, *, db_cpu=None) -> dict:
    """Each kind's ``jobs`` and as many pings, in SLICES alternating slices (ping, then every
    kind); {kind: stats with server CPU per request}, the ping's under "ping"."""
    kinds = {"ping": [("GET", "/api/v1/ping", None, {})] * PING_REQUESTS, **jobs}
    checks = {"ping": lambda s, p: s == 200, **checks}
    parts = {kind: [] for kind in kinds}
    cpu = dict.fromkeys(kinds, 0.0)
    database = dict.fromkeys(kinds, 0.0)
    for index in range(SLICES):
        for kind, kind_jobs in kinds.items():
            size = -(-len(kind_jobs) // SLICES)
            before, db_before = server.worker_cpu(), db_cpu() if db_cpu else 0.0
            parts[kind].append(load(server.port, kind_jobs[index * size:(index + 1) * size],
                                    checks[kind]))
            cpu[kind] += server.worker_cpu() - before
            database[kind] += (db_cpu() if db_cpu else 0.0) - db_before
    result = {}
    for kind in kinds:
        stats = combined(parts[kind])
        stats["cpu_ms"] = cpu[kind] / stats["requests"] * 1000
        stats["db_cpu_ms"] = database[kind] / stats["requests"] * 1000 if db_cpu else None
        result[kind] = stats
    return result


def without_raw(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("latencies", "error_list")}


def scan_check(expected: str):
    def check(status: int, payload: bytes) -> bool:
        return status == 200 and json.loads(payload).get("status") == expected
    return check


def one_run(url: str, callers: tuple[str, ...]) -> dict:
    migrate(url)
    data = seed(url)
    server = Server(url)
    db_cpu = postgres_cpu if url.startswith("postgresql") else None
    try:
        auth = {"link": {"Authorization": "Bearer " + data["link_token"]},
                "token": {"Authorization": "Bearer " + data["api_token"]}}
        if "session" in callers:
            auth["session"] = session_headers(server.port, data["email"], data["event_id"])
        path = f"/api/v1/events/{data['event_id']}/scans"
        load(server.port, [("GET", "/api/v1/ping", None, {})] * 200, lambda s, p: True)  # warm
        tickets = {kind: data["tokens"][n * TICKETS:(n + 1) * TICKETS]
                   for n, kind in enumerate(CALLERS)}

        def jobs():
            return {kind: [("POST", path, {"code": t, "client_scan_id": str(uuid.uuid4()),
                                           "device_label": "замер"}, auth[kind])
                           for t in tickets[kind]] for kind in callers}

        first = alternately(server, jobs(), dict.fromkeys(callers, scan_check("ok")),
                            db_cpu=db_cpu)
        repeat = alternately(server, jobs(),
                             dict.fromkeys(callers, scan_check("already_checked_in")),
                             db_cpu=db_cpu)
    finally:
        server.stop()
    return {"first": {k: without_raw(v) for k, v in first.items()},
            "repeat": {k: without_raw(v) for k, v in repeat.items()}}


# --------------------------------------------------------------------------- databases

def sqlite_runs(runs: int, callers) -> list[dict]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(one_run(f"sqlite:///{tmp}/bench.db", callers))
    return results


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "profroute_bench"):
    """A new, empty PostgreSQL database beside PG_BASE; yields its URL, drops it after."""
    import sqlalchemy as sa

    admin = sa.create_engine(PG_BASE.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.engine.make_url(PG_BASE).set(database=name).render_as_string(
                hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM "
                                     "pg_stat_activity WHERE datname = :n"), {"n": name})
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def postgres_runs(runs: int, callers) -> list[dict]:
    results = []
    for _ in range(runs):
        with fresh_postgres_database() as url:
            results.append(one_run(url, callers))
    return results


TITLES = {"ping": "ping (тривиальный JSON)", "link": "ссылка сканера",
          "token": "токен организатора", "session": "сессия организатора"}
PASSES = {"first": "первый проход (ok)", "repeat": "повтор (already_checked_in)"}


def median_of(results: list[dict], part: str, kind: str, key: str) -> float:
    return statistics.median(r[part][kind][key] for r in results)


def report(name: str, results: list[dict], callers) -> str:
    has_db = results[0]["first"]["ping"]["db_cpu_ms"] is not None
    lines = [f"**{name}** (медианы {len(results)} прогонов; ЦП — процессорное время воркеров "
             "gunicorn на запрос" + ("; ЦП базы — процессов PostgreSQL" if has_db else "") + ")",
             "",
             "| проход | кто | запросов/с | доля ping | p50, мс | p95, мс | p99, мс | ЦП, мс |"
             + (" ЦП базы, мс |" if has_db else "") + " ошибок |",
             "|---|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if has_db else "") + "---:|"]
    for part, part_title in PASSES.items():
        for kind in ("ping", *callers):
            ratio = statistics.median(r[part][kind]["rps"] / r[part]["ping"]["rps"]
                                      for r in results)
            db_cell = (f" {median_of(results, part, kind, 'db_cpu_ms'):.2f} |"
                       if has_db else "")
            lines.append(
                f"| {part_title} | {TITLES[kind]} | {median_of(results, part, kind, 'rps'):.0f} "
                f"| {ratio:.2f} | {median_of(results, part, kind, 'p50'):.1f} "
                f"| {median_of(results, part, kind, 'p95'):.1f} "
                f"| {median_of(results, part, kind, 'p99'):.1f} "
                f"| {median_of(results, part, kind, 'cpu_ms'):.2f} |{db_cell} "
                f"{sum(r[part][kind]['errors'] for r in results)} |")
    if "link" in callers:
        lines.append("")
        for part, part_title in PASSES.items():
            link = median_of(results, part, "link", "cpu_ms")
            others = ", ".join(
                f"{TITLES[k]} {median_of(results, part, k, 'cpu_ms') / link:.2f}×"
                for k in callers if k != "link")
            lines.append(f"- {part_title}: ЦП на скан относительно ссылки сканера: {others}.")
    samples = [s for r in results for part in PASSES for kind in callers
               for s in r[part][kind]["error_samples"]]
    if samples:
        lines.append(f"- примеры ошибок: {samples[:3]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--callers", default=",".join(CALLERS),
                        help="caller kinds, comma-separated: " + ", ".join(CALLERS))
    parser.add_argument("--json", help="also write raw results to this file")
    args = parser.parse_args()
    callers = tuple(c for c in CALLERS if c in args.callers.split(","))
    print(f"Машина: {platform.node()}, {os.cpu_count()} ядра, {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; gunicorn {WORKERS} sync "
          f"воркера, {CLIENTS} клиентов, {TICKETS} билетов на каждого вызывающего.\n",
          flush=True)
    raw = {}
    if args.db in ("sqlite", "both"):
        raw["sqlite"] = sqlite_runs(args.runs, callers)
        print(report("SQLite (файл, WAL)", raw["sqlite"], callers) + "\n", flush=True)
    if args.db in ("postgres", "both"):
        raw["postgres"] = postgres_runs(args.runs, callers)
        print(report("PostgreSQL", raw["postgres"], callers) + "\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
