"""Paper-ready figures: the formats asked for, colours that never repeat, plain log ticks,
and --no_plots respected by every command."""
import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from run_folders import run_folder

from gamma.cli import main  # noqa: E402
from gamma.plots import convergence, distinct_colours  # noqa: E402

FAST = ["--num_pop", "6", "--epochs", "2", "--seed", "1", "--log_level", "0", "--jobs", "1"]


@pytest.mark.parametrize("n", [1, 10, 11, 20, 21, 54])
def test_colours_never_repeat_within_a_figure(n):
    colours = distinct_colours(n)
    assert len(colours) == n and len({tuple(round(c, 6) for c in rgba) for rgba in colours}) == n


def test_log_axis_ticks_are_plain_numbers():
    history = pd.DataFrame({"samples": [10, 20, 30], "best_latency": [450.0, 120.0, 100.0]})
    fig = convergence([(1, history)], "latency", "cycles")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels(minor=True)
              + fig.axes[0].get_yticklabels()]
    assert any(label in ("1", "1.5", "2") for label in labels)
    assert not any("times" in label or "^" in label or "×" in label for label in labels), labels


def test_plot_formats_are_written_and_the_report_embeds_svg(tmp_path):
    out = tmp_path / "o"
    assert main(["--model", "vgg16", "--num_layer", "2", "--plot_format", "svg,pdf",
                 "--outdir", str(out)] + FAST) == 0
    names = sorted(p.name for p in (run_folder(out) / "plots").iterdir())
    assert names == ["convergence.pdf", "convergence.svg", "energy.pdf", "energy.svg", "layers.pdf",
                     "layers.svg"]
    assert "data:image/svg+xml;base64," in (run_folder(out) / "report.html").read_text()


def test_a_bad_plot_format_is_one_line(capsys, tmp_path):
    assert main(["--plot_format", "gif", "--outdir", str(tmp_path / "o")] + FAST) == 2
    assert "--plot_format takes png, svg, pdf" in capsys.readouterr().err


def test_no_plots_is_respected_by_the_whole_model_codesign(tmp_path):
    out = tmp_path / "o"
    assert main(["--model", "vgg16", "--num_layer", "2", "--num_pe", "-1", "--area_budget", "0.5",
                 "--codesign", "model", "--no_plots", "--outdir", str(out)] + FAST) == 0
    assert (run_folder(out) / "codesign_pareto.csv").is_file()
    assert not (run_folder(out) / "plots").exists()


def test_energy_parts_sum_to_the_energy_and_are_drawn(tmp_path):
    out = tmp_path / "o"
    assert main(["--model", "mobilenet_v2", "--num_layer", "3", "--outdir", str(out)] + FAST) == 0
    rows = pd.read_csv(run_folder(out) / "results.csv")
    parts = rows[["energy_mac_nj", "energy_l1_nj", "energy_l2_nj", "energy_noc_nj",
                  "energy_offchip_nj"]]
    assert (parts.sum(axis=1) - rows["energy_nj"]).abs().max() < 1e-6 * rows["energy_nj"].max()
    assert (rows["energy_mac_nj"] > 0).all() and (rows["energy_l2_nj"] > 0).all()
    assert (run_folder(out) / "plots" / "energy.png").stat().st_size > 5000
    page = (run_folder(out) / "report.html").read_text()
    assert "L1 (nJ)" in page and "Energy per layer by part" in page
