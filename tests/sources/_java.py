"""Where the Spark test finds Java, and what it says when it cannot."""

import os
import shutil

JAVA = shutil.which("java") or (
    os.environ.get("JAVA_HOME") and shutil.which("java", path=f"{os.environ['JAVA_HOME']}/bin")
)
MISSING_JAVA = (
    "Java not found, so the Spark test did not run: install it (as root: apt-get install default-jre-headless; "
    ".ci/run does this) or set JAVA_HOME."
)
