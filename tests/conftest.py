"""Shared test helpers."""
import os

import matplotlib

# Plots are written to files; never open a window.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
