"""Where a run wrote its files: its own folder inside the sweep folder ``--outdir``."""
from pathlib import Path


def run_folder(sweep) -> Path:
    """The folder of the run in the sweep folder ``sweep`` (the newest, if there are several)."""
    runs = [d for d in Path(sweep).iterdir() if d.is_dir()]
    assert runs, f"no run folder in {sweep}"
    return max(runs, key=lambda d: (d.stat().st_ctime_ns, d.name))
