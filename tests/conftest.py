"""Shared test helpers."""
import os

import matplotlib
from hypothesis import settings

# Plots are written to files; never open a window.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests: reproducible in CI (a fixed derandomized stream and no example database, so
# a clean checkout sees exactly what the last run saw), fresh randomness elsewhere.  CI also runs
# the property tests once more with `--hypothesis-profile=fresh` to keep exploring.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("fresh", derandomize=False, database=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")
