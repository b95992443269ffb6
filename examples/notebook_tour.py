"""A tour of the Python API: search two layers, evaluate a shipped MAESTRO file, plot.

Run from the repository root: ``python examples/notebook_tour.py [OUTDIR]``.
It writes ``latency_per_layer.png`` (and, with OUTDIR, the search's files).
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gamma  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(outdir: Path) -> None:
    layers = gamma.load_model("resnet18")[:2]                # the first two layers
    hw = gamma.load_hardware("edge", num_pes=256)
    result = gamma.search(layers, hw, num_pop=20, epochs=4, seed=1, plots=False)
    print(result.layers[["layer", "latency_cycles", "energy_nj", "gap"]].to_string(index=False))
    result.save(outdir / "search", overwrite=True)

    costs = gamma.evaluate(ROOT / "data" / "mappings" / "nvdla_like_kc_ws.m", hw)
    print(f"{len(costs)} layers of nvdla_like_kc_ws.m evaluated, {int(costs['Valid'].sum())} valid")

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(result.layers["layer"].astype(str), result.layers["latency_cycles"])
    ax.set_xlabel("layer")
    ax.set_ylabel("latency (cycles)")
    fig.tight_layout()
    fig.savefig(outdir / "latency_per_layer.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("outputs") / "tour")
