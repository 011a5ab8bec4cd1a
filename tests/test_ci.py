"""CI cannot go green by skipping: with REQUIRE_BROWSER=1 (as .ci/run sets it) a missing Chromium
fails the browser tests instead of skipping them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_browser_tests_fail_without_chromium_when_required(tmp_path):
    # On SQLite: on PostgreSQL the inner run would rebuild the database this suite is using.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(CHROMIUM=str(tmp_path / "no-chromium"), REQUIRE_BROWSER="1")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser.py", "-k", "haircut"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "ERROR tests/test_browser.py::test_a_haircut" in result.stdout
    assert "Chromium is not installed and REQUIRE_BROWSER=1" in result.stdout


def test_make_test_says_on_screen_when_browser_tests_did_not_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REQUIRE_BROWSER")}
    env.update(CHROMIUM=str(tmp_path / "no-chromium"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_browser.py", "-k", "haircut"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 BROWSER TEST(S) DID NOT RUN" in result.stdout
    assert "To run them: apt-get install chromium" in result.stdout
