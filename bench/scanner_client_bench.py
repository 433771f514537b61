"""Benchmark of the phone scanner's own work in Chromium, for a festival-size event.

A synthetic scanner-data download (the contract's shape: 6,000 tickets, 70 schools, 400 groups)
is served with the scanner's real JavaScript from 127.0.0.1; headless Chromium (phone viewport,
4x CPU throttling to stand in for a mid-range phone) measures:

* parsing the download and building the lookup tables (once per refresh),
* storing it in IndexedDB and reading it back (what a reload while offline costs),
* judging one scan offline (SHA-256 of the code + lookup + decision + display text),
* decoding one 640x480 camera frame with the vendored jsQR (what the Web Worker does per frame).

    .venv/bin/python bench/scanner_client_bench.py [--runs 5] [--cpu-slowdown 4]

Prints a Markdown table (docs/performance.md, section «Сканер на телефоне»).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import json
import platform
import random
import statistics
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "webapp" / "static"
TICKETS = 6000
SCHOOLS = 70
GROUPS = 400

LAST = ["Иванов", "Смирнова", "Кузнецов", "Попова", "Васильев", "Петрова", "Соколов", "Михайлова",
        "Новиков", "Фёдорова", "Морозов", "Волкова", "Алексеев", "Лебедева", "Семёнов", "Егорова"]
FIRST = ["Александр", "Мария", "Максим", "Анна", "Артём", "Виктория", "Иван", "Полина", "Дмитрий",
         "Алиса", "Кирилл", "Елизавета", "Михаил", "Дарья", "Егор", "Ксения"]

PAGE = """<!doctype html><html lang="ru"><meta charset="utf-8"><title>bench</title>
<canvas id="c" width="640" height="480"></canvas>
<script src="/static/js/scanner/decide.js"></script>
<script src="/static/js/scanner/store.js"></script>
<script src="/static/vendor/jsqr-1.4.0/jsQR.js"></script>
"""


def h16(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def synthetic_scanner_data(rng: random.Random) -> tuple[dict, list[str]]:
    schools = [[i + 1, f"СОШ № {i + 1}"] for i in range(SCHOOLS)]
    tokens = [f"tok{rng.getrandbits(128):032x}" for _ in range(TICKETS)]
    tickets = []
    for i, token in enumerate(tokens):
        parent = i % 12 == 0
        tickets.append([
            h16(token), "confirmed" if i % 25 else "waitlisted",
            f"{rng.choice(LAST)} {rng.choice(FIRST)}", None if parent else f"{rng.randint(1, 11)}А",
            None if parent else rng.randrange(SCHOOLS), i % 40 == 0,
            "parent" if parent else "student", None, h16(f"SC{i:06d}"),
        ])
    per_group = TICKETS // GROUPS
    groups = [[h16(f"group{g}"), g % SCHOOLS, list(range(g * per_group, (g + 1) * per_group))]
              for g in range(GROUPS)]
    data = {
        "event": {"id": 1, "title": "Фестиваль профессий",
                  "starts_at": "2026-01-01T03:00:00+00:00",
                  "ends_at": "2027-01-01T03:00:00+00:00",
                  "checkin_opens_at": "2026-01-01T01:00:00+00:00",
                  "checkin_closes_at": "2027-01-01T03:00:00+00:00"},
        "generated_at": datetime.now(UTC).isoformat(), "valid_until": None,
        "schools": schools, "tickets": tickets, "groups": groups,
    }
    return data, tokens


class Handler(http.server.SimpleHTTPRequestHandler):
    payload: bytes = b""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(ROOT / "webapp"), **kwargs)

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/":
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        elif self.path == "/scanner-data":
            body = self.payload
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
        else:
            return super().do_GET()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


MEASURE = """async ({tokens, qrPixels}) => {
  const D = window.ScannerDecide, S = window.ScannerStore;
  const t = () => performance.now();
  const out = {};
  let a = t();
  const response = await fetch('/scanner-data', {cache: 'no-store'});
  const payload = await response.json();
  out.fetch_parse = t() - a;
  a = t(); const index = D.buildIndex(payload); out.build_index = t() - a;
  a = t();
  await S.putData({scope: 'bench', eventId: 1, payload, fetchedAt: new Date().toISOString()});
  out.idb_put = t() - a;
  a = t();
  const saved = await S.getData('bench');
  D.buildIndex(saved.payload);
  out.idb_get_index = t() - a;
  const times = [];
  const local = new Map();
  for (const token of tokens) {
    const s = t();
    const parsed = D.parseCode('https://profroute.example/t/' + token);
    const bytes = new TextEncoder().encode(D.hashInput(parsed));
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    const hash = Array.from(new Uint8Array(digest))
      .map(b => b.toString(16).padStart(2, '0')).join('').slice(0, 16);
    const result = D.judgeOffline(index, parsed, hash, local, new Date());
    D.present(result, new Date());
    if (result.status === 'ok') { local.set(hash, {at: new Date().toISOString()}); }
    times.push(t() - s);
  }
  times.sort((x, y) => x - y);
  out.judge_median = times[Math.floor(times.length / 2)];
  out.judge_p99 = times[Math.floor(times.length * 0.99)];
  const img = new ImageData(new Uint8ClampedArray(qrPixels), 640, 480);
  const decodes = [];
  let text = null;
  for (let i = 0; i < 15; i++) {
    const s = t();
    const found = jsQR(img.data, 640, 480, {inversionAttempts: 'dontInvert'});
    decodes.push(t() - s);
    text = found && found.data;
  }
  decodes.sort((x, y) => x - y);
  out.jsqr_frame = decodes[Math.floor(decodes.length / 2)];
  out.jsqr_ok = !!text;
  await S.wipe('bench', true);
  return out;
}"""


def qr_frame_rgba(text: str) -> list[int]:
    import qrcode
    from PIL import Image

    image = qrcode.make(text, box_size=8, border=4).convert("L")
    side = 384
    image = image.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(image, ((640 - side) // 2, (480 - side) // 2))
    return list(frame.convert("RGBA").tobytes())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cpu-slowdown", type=int, default=4)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rng = random.Random(20251)
    data, tokens = synthetic_scanner_data(rng)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    Handler.payload = gzip.compress(raw, compresslevel=6)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    sample = rng.sample(tokens, 300) + ["unknown-token"] * 10
    pixels = qr_frame_rgba("https://profroute.example/t/" + tokens[0])

    runs = []
    with sync_playwright() as pw:
        for _ in range(args.runs):
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            page.goto(url)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": args.cpu_slowdown})
            runs.append(page.evaluate(MEASURE, {"tokens": sample, "qrPixels": pixels}))
            browser.close()
    server.shutdown()

    def med(key):
        return statistics.median(r[key] for r in runs)

    print(f"Машина: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; Chromium, замедление CPU ×{args.cpu_slowdown}; "
          f"{args.runs} прогонов, медианы; {datetime.now(UTC):%d.%m.%Y}.")
    print(f"Данные: {TICKETS} билетов, {SCHOOLS} школ, {GROUPS} групп: "
          f"JSON {len(raw) / 1024:.0f} КБ, gzip {len(Handler.payload) / 1024:.0f} КБ.")
    print()
    print("| шаг | мс |")
    print("|---|---:|")
    rows = [("скачать и разобрать scanner-data (127.0.0.1)", "fetch_parse"),
            ("построить таблицы поиска", "build_index"),
            ("сохранить в IndexedDB", "idb_put"),
            ("прочитать из IndexedDB и построить таблицы (перезагрузка офлайн)", "idb_get_index"),
            ("один скан офлайн: SHA-256 + решение + текст ответа, медиана", "judge_median"),
            ("один скан офлайн, p99", "judge_p99"),
            ("jsQR: один кадр 640×480 с QR-кодом", "jsqr_frame")]
    for title, key in rows:
        value = med(key)
        shown = "< 0,1" if value < 0.1 else f"{value:.1f}".replace(".", ",")
        print(f"| {title} | {shown} |")
    if not all(r["jsqr_ok"] for r in runs):
        print("jsQR did not read the code!", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
