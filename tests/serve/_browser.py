"""Where the browser tests find Chromium, and what they say when they cannot."""

import os
import shutil

CHROMIUM = os.environ.get("BAYESKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = (
    "Chromium not found, so the browser tests did not run: install it (as root: apt-get install chromium; "
    ".ci/run does this) or set BAYESKIT_CHROMIUM=/path/to/chromium."
)
