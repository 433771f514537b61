"""Benchmark of the scan endpoint under gunicorn (2 sync workers), beside a trivial endpoint.

For each database (SQLite file, PostgreSQL): a fresh database is migrated and seeded with one
event (check-in open) and 2,000 confirmed tickets; gunicorn serves the app on 127.0.0.1; then,
with 8 concurrent clients (threads, one connection per request as sync workers close them):

1. first pass: ``POST /api/v1/events/{id}/scans`` for the 2,000 distinct tickets (all ``ok``);
2. repeat pass: the same 2,000 tickets again (all ``already_checked_in``);
3. beside each pass, ``GET /api/v1/ping`` (JSON, no database): the trivial endpoint of the
   same app, 2,000 requests.

A pass and its ping run alternately, in slices of 250 requests (ping, scans, ping, scans …),
so that both meet the same machine: the speed of this kind of VM drifts by a third within
minutes, and a ping measured a minute apart from the scans made the ratio swing by ±0.1.
The ratio of a pass is its throughput over the ping's measured in the same slices.

Callers authenticate as volunteers do at the door, with a scanner link's token. Each run is
repeated ``--runs`` times; medians are printed as a Markdown table (docs/performance.md).

    .venv/bin/python bench/scan_bench.py [--runs 3] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
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


def seed(url: str, ticket_count: int = TICKETS) -> dict:
    """One event with check-in open and ``ticket_count`` confirmed tickets; returns tokens."""
    from checkin.door.links import create_scanner_link
    from models import (
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
        user.set_password("bench-password")
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
        _link, link_token = create_scanner_link(user, event, label="Волонтёр", gate="Главный вход")
        db.session.commit()
        result = {"event_id": event.id, "tokens": [t.token for t in tickets],
                  "link_token": link_token}
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
            cwd=ROOT, env=env_for(url))
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

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(port: int, method: str, path: str, body: dict | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={
            **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


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


def alternately(port: int, jobs: list, check) -> tuple[dict, dict]:
    """``jobs`` and as many pings, in SLICES alternating slices; (jobs' stats, ping's)."""
    ping_job = ("GET", "/api/v1/ping", None, {})
    size = -(-len(jobs) // SLICES)
    ping_size = -(-PING_REQUESTS // SLICES)
    measured, pings = [], []
    for start in range(0, len(jobs), size):
        pings.append(load(port, [ping_job] * ping_size, lambda s, p: s == 200))
        measured.append(load(port, jobs[start:start + size], check))
    return combined(measured), combined(pings)


def without_raw(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("latencies", "error_list")}


def scan_check(expected: str):
    def check(status: int, payload: bytes) -> bool:
        return status == 200 and json.loads(payload).get("status") == expected
    return check


def one_run(url: str) -> dict:
    migrate(url)
    data = seed(url)
    server = Server(url)
    try:
        auth = {"Authorization": "Bearer " + data["link_token"]}
        path = f"/api/v1/events/{data['event_id']}/scans"
        load(server.port, [("GET", "/api/v1/ping", None, {})] * 200, lambda s, p: True)  # warm
        first, ping_first = alternately(
            server.port, [("POST", path, {"code": t, "client_scan_id": str(uuid.uuid4()),
                                          "device_label": "замер"}, auth)
                          for t in data["tokens"]], scan_check("ok"))
        repeat, ping_repeat = alternately(
            server.port, [("POST", path, {"code": t, "client_scan_id": str(uuid.uuid4()),
                                          "device_label": "замер"}, auth)
                          for t in data["tokens"]], scan_check("already_checked_in"))
    finally:
        server.stop()
    return {"ping": without_raw(combined([ping_first, ping_repeat])),
            "ping_first": without_raw(ping_first), "ping_repeat": without_raw(ping_repeat),
            "first": without_raw(first), "repeat": without_raw(repeat)}


# --------------------------------------------------------------------------- databases

def sqlite_runs(runs: int) -> list[dict]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(one_run(f"sqlite:///{tmp}/bench.db"))
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


def postgres_runs(runs: int) -> list[dict]:
    results = []
    for _ in range(runs):
        with fresh_postgres_database() as url:
            results.append(one_run(url))
    return results


def median_of(results: list[dict], part: str, key: str) -> float:
    return statistics.median(r[part][key] for r in results)


def report(name: str, results: list[dict]) -> str:
    lines = [f"**{name}** (медианы {len(results)} прогонов)", "",
             "| запрос | запросов | запросов/с | p50, мс | p95, мс | p99, мс | ошибок |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    titles = {"ping": "GET /api/v1/ping (тривиальный JSON)",
              "first": "POST …/scans, первый проход (ok)",
              "repeat": "POST …/scans, повторный проход (already_checked_in)"}
    for part, title in titles.items():
        lines.append(
            f"| {title} | {results[0][part]['requests']} | "
            f"{median_of(results, part, 'rps'):.0f} | {median_of(results, part, 'p50'):.1f} | "
            f"{median_of(results, part, 'p95'):.1f} | {median_of(results, part, 'p99'):.1f} | "
            f"{sum(r[part]['errors'] for r in results)} |")
    for part in ("first", "repeat"):
        ratios = sorted(r[part]["rps"] / r["ping_" + part]["rps"] for r in results)
        ping = median_of(results, "ping_" + part, "rps")
        lines.append("")
        lines.append(f"- {titles[part]}: {statistics.median(ratios):.2f} от пропускной "
                     f"способности ping, измеренного вперемежку с ним (медиана; прогоны: "
                     f"{', '.join(f'{x:.2f}' for x in ratios)}; ping {ping:.0f} запросов/с).")
    samples = [s for r in results for part in ("first", "repeat")
               for s in r[part]["error_samples"]]
    if samples:
        lines.append(f"- примеры ошибок: {samples[:3]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--json", help="also write raw results to this file")
    args = parser.parse_args()
    print(f"Машина: {platform.node()}, {os.cpu_count()} ядра, {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; gunicorn {WORKERS} sync "
          f"воркера, {CLIENTS} клиентов, {TICKETS} билетов.\n")
    raw = {}
    if args.db in ("sqlite", "both"):
        raw["sqlite"] = sqlite_runs(args.runs)
        print(report("SQLite (файл, WAL)", raw["sqlite"]) + "\n")
    if args.db in ("postgres", "both"):
        raw["postgres"] = postgres_runs(args.runs)
        print(report("PostgreSQL", raw["postgres"]) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
