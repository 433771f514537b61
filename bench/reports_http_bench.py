"""End-to-end timings of the city-scale reports through gunicorn (HTTP, 2 workers).

    .venv/bin/python bench/reports_http_bench.py --database-url sqlite:////tmp/city.db
    .venv/bin/python bench/reports_http_bench.py \
        --database-url postgresql://postgres@127.0.0.1:5432/city

The database must hold ``demo --size city`` (bench/indicators_bench.py ``--build`` makes one) and
be migrated to head. The benchmark creates an API token for admin@demo.local (``tokens create``;
the only write), starts gunicorn with ``gunicorn.conf.py`` and 2 workers on ``--port``, signs in
as the demo admin over HTTP and times, as a user or an external system feels them, from the
request to the last byte of the answer:

- the indicators API (``GET /api/v1/reports/indicators``): a past year, the current year, a
  date range, one school;
- the city dashboard (``/reports/``), a school page (``/reports/schools/<id>``), the XLSX
  (``/reports/indicators.xlsx``), the CSV and the справка (HTML);

each ``--runs`` times after one warm-up (median, min, max; the warm-up's own time is printed
too: with nothing kept, ``kept_reports`` being emptied first, it computes everything). Then, for
each target, gunicorn is restarted and the first request after the workers start is timed (the
API with the token, the pages after a sign-in, which is itself a first request of one worker).
Results go to docs/performance.md («Отчёты через gunicorn»).
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_EMAIL = "admin@demo.local"


class Client:
    """A tiny HTTP client with a cookie jar (no third-party packages)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response.status, data, dict(response.getheaders())

    def login(self, email: str, password: str) -> None:
        status, page, _ = self.request("GET", "/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or match is None:
            raise SystemExit(f"login page: {status}")
        form = urlencode({"csrf_token": html.unescape(match.group(1).decode()), "email": email,
                          "password": password}).encode()
        status, _, _ = self.request("POST", "/login", form, {
            "Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise SystemExit(f"login failed: {status}")


class Server:
    def __init__(self, database_url: str, port: int, workers: int, log_path: Path,
                 root: Path = ROOT):
        self.root = root
        self.env = {**os.environ, "DATABASE_URL": database_url,
                    "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
                    "GUNICORN_ACCESS_LOG": str(log_path), "GUNICORN_ERROR_LOG": str(log_path)}
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py"], cwd=self.root,
            env={**self.env, "PYTHONPATH": str(self.root)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _, _ = Client(self.port).request("GET", "/healthz")
                if status == 200:
                    # Both workers have booted (the app is built in each before it accepts).
                    time.sleep(3)
                    return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
            self.process = None


def prepare(database_url: str) -> dict:
    """The token, the years and a school to ask for (read from the database)."""
    from webapp import create_app
    from webapp.config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url)})
    with app.app_context():
        import sqlalchemy as sa

        from models import ApiToken, Organization, OrgKind, Student, User, db
        from models.academic_year import current_academic_year

        admin = db.session.execute(sa.select(User).where(User.email == ADMIN_EMAIL)).scalar_one()
        _row, raw = ApiToken.issue(admin, "bench/reports_http_bench.py")
        if sa.inspect(db.engine).has_table("kept_reports"):
            # Start from nothing kept: the warm-up computes every report once.
            db.session.execute(sa.text("DELETE FROM kept_reports"))
        db.session.commit()
        # The school with the most students: the heaviest school page.
        school_id = db.session.execute(
            sa.select(Organization.id)
            .join(Student, Student.organization_id == Organization.id)
            .where(Organization.kind == OrgKind.SCHOOL)
            .group_by(Organization.id).order_by(sa.func.count().desc(), Organization.id)
            .limit(1)).scalar_one()
        year = current_academic_year()
        return {"token": raw, "year": year, "school_id": school_id}


def targets(info: dict) -> list[tuple[str, str, bool]]:
    """(title, path, via the API token)."""
    past, current, school = info["year"] - 1, info["year"], info["school_id"]
    api = "/api/v1/reports/indicators?"
    return [
        (f"API, прошлый год ({past}/{past + 1 - 2000})", api + f"year={past}", True),
        (f"API, текущий год ({current}/{current + 1 - 2000})", api + f"year={current}", True),
        ("API, период 01.10–31.03", api + f"from={past}-10-01&to={past + 1}-03-31", True),
        ("API, одна школа (прошлый год)", api + f"year={past}&organization_id={school}", True),
        ("/reports/ (город, текущий год)", "/reports/", False),
        (f"/reports/?year={past} (город, прошлый год)", f"/reports/?year={past}", False),
        ("/reports/schools/<id> (текущий год)", f"/reports/schools/{school}", False),
        ("/reports/indicators.xlsx (прошлый год)", f"/reports/indicators.xlsx?year={past}",
         False),
        ("/reports/indicators.csv (прошлый год)", f"/reports/indicators.csv?year={past}", False),
        ("/reports/spravka (прошлый год)", f"/reports/spravka?year={past}", False),
    ]


def timed_get(client: Client, path: str, token: str | None) -> tuple[float, int, int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    status, body, _ = client.request("GET", path, headers=headers)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"{path}: HTTP {status}: {body[:300]!r}")
    return elapsed, status, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, default=5084)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="run only targets whose title contains this")
    parser.add_argument("--no-cold", action="store_true", help="skip the first-request timings")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="serve the code of this directory (e.g. an unpacked `git archive` "
                             "of an earlier commit, for the figures before a change)")
    args = parser.parse_args()

    info = prepare(args.database_url)
    chosen = [t for t in targets(info) if args.only in t[0]]
    log_path = Path(f"/tmp/reports_http_bench_{args.port}.log")
    server = Server(args.database_url, args.port, args.workers, log_path, args.root)
    print(f"load before: {os.getloadavg()[0]:.2f}; school id {info['school_id']}; "
          f"runs {args.runs}", flush=True)
    results = []
    server.start()
    try:
        client = Client(args.port)
        client.login(ADMIN_EMAIL, "demo")
        for title, path, api in chosen:
            token = info["token"] if api else None
            session = Client(args.port) if api else client
            warm_up, _, _ = timed_get(session, path, token)
            times, size = [], 0
            for _ in range(args.runs):
                elapsed, _, size = timed_get(session, path, token)
                times.append(elapsed)
            results.append({"title": title, "path": path, "median": statistics.median(times),
                            "min": min(times), "max": max(times), "bytes": size,
                            "warm_up": warm_up})
            print(f"{title:48} median {statistics.median(times):6.3f} s  "
                  f"(min {min(times):.3f}, max {max(times):.3f})  {size / 1024:8.1f} KB  "
                  f"warm-up {warm_up:.3f} s", flush=True)
    finally:
        server.stop()
    if not args.no_cold:
        for result, (title, path, api) in zip(results, chosen, strict=True):
            server.start()
            try:
                client = Client(args.port)
                if not api:
                    client.login(ADMIN_EMAIL, "demo")
                elapsed, _, _ = timed_get(client, path, info["token"] if api else None)
            finally:
                server.stop()
            result["first"] = elapsed
            print(f"{title:48} first request {elapsed:6.3f} s", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
