"""Real-Chromium fixtures: the app served on 127.0.0.1 against a file database, Playwright with
Debian's /usr/bin/chromium, and a fake camera that plays a y4m made from ticket QR images.

Without Chromium (or Playwright) the browser tests skip with a visible reason, except when
``CI=true``, where they fail.

The pages run under the app's Content-Security-Policy (no 'unsafe-eval'): Playwright's
``wait_for_function`` must get a function (``"() => …"``), which it evaluates once; a bare
expression is evaluated again on every poll and the policy refuses that (EvalError).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _missing_browser_reason() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    return None


@pytest.fixture(scope="session")
def playwright_instance():
    reason = _missing_browser_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.network_down = False
        #: ``f(environ) -> seconds`` to hold a request back before the app answers (a weak
        #: signal), or None.
        self.delay = None
        self._server = make_server("127.0.0.1", self.port, self._serve, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _serve(self, environ, start_response):
        if self.network_down:
            # What a phone at a venue without a working uplink gets from a proxy or captive
            # portal: no answer from the app. See ``offline``.
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"network down"]
        if self.delay is not None:
            time.sleep(self.delay(environ))
        return self.app(environ, start_response)

    def start(self):
        self._thread.start()
        return self

    @contextlib.contextmanager
    def offline(self, context):
        """The phone loses its network: Chromium's offline emulation (``navigator.onLine``,
        failed requests) and, because that emulation lets an occasional request of a
        service-worker-controlled page through (microsoft/playwright#2311), the server itself
        refuses every request meanwhile, so nothing the test does offline can reach the app."""
        self.network_down = True
        context.set_offline(True)
        try:
            yield
        finally:
            context.set_offline(False)
            self.network_down = False

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def live_server(app, database_url):
    """The test's app (file database: SQLite copy, or PostgreSQL with TEST_DATABASE_URL)
    served on 127.0.0.1:<free port> in a thread. The test thread keeps its own app context;
    commit before the browser looks."""
    assert not database_url.endswith("://"), "the live server needs a file database"
    app.config["PROFROUTE_BASE_URL"] = "http://profroute.test"
    server = LiveServer(app).start()
    yield server
    server.stop()


#: Runs in every page before its own scripts: a CSP violation (inline script, handler or style,
#: a blocked resource, worker or manifest) is reported to the console, where the test sees it.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", function (e) {
  // Playwright's own evaluation (wait_for_function polling) is no page code: no source file.
  if (e.blockedURI === "eval" && !e.sourceFile) { return; }
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber + " (" + e.sample + ")");
});
"""


class PageProblems:
    """What went wrong in the pages of a context: CSP violations (the event and Chromium's own
    console message) and uncaught script errors. Any of them fails the test. Other console
    errors (a 404 image, a request refused while offline) are kept for the message only."""

    def __init__(self):
        self.problems: list[str] = []
        self.console_errors: list[str] = []

    def watch(self, context):
        context.add_init_script(CSP_WATCH)
        context.on("page", self._watch_page)

    def _watch_page(self, page):
        page.on("console", lambda msg: self._console(page, msg))
        page.on("pageerror", lambda err: self._page_error(page, err))

    @staticmethod
    def _harness_eval(text: str, source: str) -> bool:
        """Playwright evaluating a string in the page (not the page's own code, which never
        evaluates strings and would name its file)."""
        return text.startswith(("Evaluating a string as JavaScript", "EvalError")) \
            and "/static/" not in source

    def _page_error(self, page, err):
        if self._harness_eval(str(err.message), str(err.stack or "")):
            return
        self.problems.append(f"{page.url}: uncaught script error: {err}")

    def _console(self, page, msg):
        if msg.type != "error":
            return
        text = msg.text
        if self._harness_eval(text, (msg.location or {}).get("url") or ""):
            return
        if text.startswith("CSP violation") or "Content Security Policy" in text \
                or "Permissions policy violation" in text:
            self.problems.append(f"{page.url}: {text}")
        else:
            self.console_errors.append(f"{page.url}: {text}")


class BrowserLauncher:
    """Launches Chromium, optionally with a fake camera playing ``y4m``; closes all at the end.
    Every context it makes is watched for CSP violations and script errors (``page_problems``)."""

    def __init__(self, playwright, tmp_path: Path):
        self.playwright = playwright
        self.tmp_path = tmp_path
        self.browsers = []
        self.page_problems = PageProblems()

    def launch(self, y4m: Path | None = None):
        args = list(CHROMIUM_ARGS)
        if y4m is not None:
            args += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--use-file-for-fake-video-capture={y4m}"]
        browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=args,
                                                  headless=True)
        self.browsers.append(browser)
        return browser

    def phone(self, live_server: LiveServer, y4m: Path | None = None):
        """A phone-sized context with camera permission for the live server's origin."""
        browser = self.launch(y4m)
        context = browser.new_context(viewport=PHONE, locale="ru-RU", timezone_id="Asia/Tomsk",
                                      has_touch=True, service_workers="allow")
        context.grant_permissions(["camera"], origin=live_server.url)
        context.set_default_timeout(20_000)
        self.page_problems.watch(context)
        return context

    def desktop(self, live_server: LiveServer):
        """A desktop-sized context (1280×800), watched like the phone's."""
        browser = self.launch()
        context = browser.new_context(viewport=DESKTOP, locale="ru-RU", timezone_id="Asia/Tomsk")
        context.set_default_timeout(20_000)
        self.page_problems.watch(context)
        return context

    def close(self):
        for browser in self.browsers:
            with contextlib.suppress(Exception):  # already gone
                browser.close()


@pytest.fixture
def browser(playwright_instance, tmp_path, request):
    launcher = BrowserLauncher(playwright_instance, tmp_path)
    yield launcher
    launcher.close()
    problems = launcher.page_problems
    if os.environ.get("PROFROUTE_SHOW_CONSOLE"):
        print("\n".join(["console errors:"] + problems.console_errors))
    assert not problems.problems, (
        "the pages broke under the Content-Security-Policy or threw:\n"
        + "\n".join(problems.problems)
        + "\n(other console errors: " + "; ".join(problems.console_errors) + ")")


# --------------------------------------------------------------------------- fake camera

Y4M_SIZE = (640, 480)


def qr_image(text: str):
    """The QR the ticket carries, as a Pillow image (grey)."""
    from PIL import Image

    from checkin.seats.tickets import qr_png

    return Image.open(io.BytesIO(qr_png(text))).convert("L")


def write_y4m(path: Path, codes: list[str], frames_per_code: int = 20,
              blank_frames: int = 4) -> Path:
    """A y4m video showing each code's QR in turn (then a few blank frames), for Chromium's
    fake camera; the file loops."""
    from PIL import Image

    width, height = Y4M_SIZE
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    blank = Image.new("L", (width, height), 255)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())

        def frame(image):
            out.write(b"FRAME\n")
            out.write(image.tobytes())
            out.write(chroma)
            out.write(chroma)

        for code in codes:
            qr = qr_image(code)
            side = int(height * 0.8)
            qr = qr.resize((side, side), Image.NEAREST)
            canvas = blank.copy()
            canvas.paste(qr, ((width - side) // 2, (height - side) // 2))
            for _ in range(frames_per_code):
                frame(canvas)
            for _ in range(blank_frames):
                frame(blank)
    return path


@pytest.fixture
def make_y4m(tmp_path):
    def make(codes: list[str], name: str = "camera.y4m", **kwargs) -> Path:
        return write_y4m(tmp_path / name, codes, **kwargs)

    make.path = lambda name: tmp_path / name
    return make
