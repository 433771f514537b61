"""The scanner's decision and display module (webapp/static/js/scanner/decide.js), tested in Node.

The same module judges scans offline in the browser; the browser tests cover it end to end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node") or shutil.which("nodejs")
JS_TESTS = Path(__file__).parent / "js"


# In CI (CI=true) a missing Node.js is a failure, not a skip.
@pytest.mark.skipif(NODE is None and os.environ.get("CI") != "true",
                    reason="Node.js is not installed (apt-get install nodejs); "
                    "the browser tests still exercise the module in Chromium")
def test_decision_module_in_node():
    assert NODE is not None, "Node.js is required in CI"
    done = subprocess.run([NODE, "--test", str(JS_TESTS)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
