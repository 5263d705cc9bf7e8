"""The README shows what the commands really print."""

from __future__ import annotations

import subprocess
import sys

from .conftest import TESTS


def test_readme_samples_are_the_real_output():
    done = subprocess.run(
        [sys.executable, str(TESTS.parent / "tools" / "readme_samples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
