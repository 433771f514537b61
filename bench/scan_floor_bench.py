"""Where a scan's time goes on PostgreSQL: probe endpoints that each do part of a scan's work,
measured like bench/scan_bench.py (gunicorn, 2 sync workers, 8 clients, each probe's 2,000
requests alternating with 2,000 pings in slices), as a share of the ping's throughput.

Probes (bench/scan_probes_app.py; all ``POST`` a scan's body and answer a scan-sized JSON):
nothing (echo); take the door's connection; one and two ``SELECT 1``; the scan's real read and
decision then a ``SELECT 1``; the same then the cheapest durable write (one integer into a table
without indexes); the real scan endpoint; and the real scan with ``synchronous_commit = off``.

    .venv/bin/python bench/scan_floor_bench.py [--runs 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import scan_bench as sb
import sqlalchemy as sa

PROBES = [
    ("ничего («эхо», без базы)", "/probe/echo"),
    ("берёт соединение входа, без запросов", "/probe/door"),
    ("один `SELECT 1`", "/probe/select/1"),
    ("два `SELECT 1`", "/probe/select/2"),
    ("чтение входа и решение, затем `SELECT 1`", "/probe/events/{event}/read-then/select"),
    ("чтение и решение, затем надёжный `INSERT` числа в таблицу без индексов",
     "/probe/events/{event}/read-then/write-int"),
    ("скан (`POST …/scans`)", "/api/v1/events/{event}/scans"),
]
ASYNC = "скан, база с `synchronous_commit = off`"


def one_run() -> dict:
    with sb.fresh_postgres_database("profroute_floor") as url:
        sb.migrate(url)
        data = sb.seed(url, ticket_count=sb.TICKETS * (len(PROBES) + 1))
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE bench_probe (x integer)"))
        tokens = iter(data["tokens"])
        auth = {"Authorization": "Bearer " + data["link_token"]}

        def jobs(path):
            return [("POST", path.format(event=data["event_id"]),
                     {"code": next(tokens), "client_scan_id": str(uuid.uuid4()),
                      "device_label": "замер"}, auth) for _ in range(sb.TICKETS)]

        def measure(app, probes):
            server = sb.Server(url, app=app)
            try:
                sb.load(server.port, [("GET", "/api/v1/ping", None, {})] * 200, ok)
                for label, path in probes:
                    measured, ping = sb.alternately(server.port, jobs(path), ok)
                    results[label] = (measured["rps"] / ping["rps"], measured["errors"])
            finally:
                server.stop()

        results = {}
        measure("scan_probes_app:app", PROBES)
        with engine.begin() as conn:  # new connections of the database commit asynchronously
            conn.execute(sa.text(f'ALTER DATABASE "{engine.url.database}" '
                                 "SET synchronous_commit = off"))
        engine.dispose()
        measure("wsgi:app", [(ASYNC, "/api/v1/events/{event}/scans")])
        return results


def ok(status: int, _payload: bytes) -> bool:
    return status == 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; PostgreSQL; gunicorn "
          f"{sb.WORKERS} sync воркера, {sb.CLIENTS} клиентов, по {sb.TICKETS} запросов.\n")
    print("| что делает запрос | доля ping (медиана; прогоны) | ошибок |\n|---|---:|---:|")
    for label in [p[0] for p in PROBES] + [ASYNC]:
        ratios = [r[label][0] for r in runs]
        shown = ", ".join(f"{x:.2f}" for x in ratios)
        errors = sum(r[label][1] for r in runs)
        print(f"| {label} | {statistics.median(ratios):.2f} ({shown}) | {errors} |")


if __name__ == "__main__":
    main()
