"""report.html: built from a run's files, self-contained, and rendered by a real headless Chromium."""
import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from run_folders import run_folder

from gamma.cli import main
from gamma.loop_nest import loop_nest
from gamma.report_html import write_report_html

MODEL_DIR = Path(__file__).resolve().parents[1] / "data" / "model"
# A model file whose name needs escaping: it shows up in the settings and the title.
ODD_NAME = "net<b>&\"q'.csv"


class Page(HTMLParser):
    """Tables (by class: rows of cell texts), images, <pre> blocks and section ids of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self.pres: list[tuple[str, str]] = []
        self.sections: list[str] = []
        self._table = self._row = self._cell = self._pre = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("class", "")
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "pre":
            self._pre = (attrs.get("class", ""), [])
        elif tag == "section":
            self.sections.append(attrs.get("id", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "pre" and self._pre is not None:
            self.pres.append((self._pre[0], "".join(self._pre[1])))
            self._pre = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._pre is not None:
            self._pre[1].append(data)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("html")
    lines = (MODEL_DIR / "resnet18.csv").read_text().splitlines()
    model = base / ODD_NAME
    model.write_text("\n".join(lines[:4]) + "\n")  # header + 3 layers (2 distinct)
    out = base / "run"
    argv = ["--model", str(model), "--num_pop", "10", "--epochs", "3", "--seed", "3", "--pareto",
            "--outdir", str(out), "--log_level", "0"]
    assert main(argv) == 0
    write_report_html(run_folder(out))
    return run_folder(out)


def _pngs(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "plots").glob("*.png"))


def _check_page(page: Page, run_dir: Path) -> None:
    """What both the file and the browser's DOM must show."""
    assert {"settings", "totals", "layers", "mappings", "plots", "pareto"} <= set(page.sections)
    settings = dict(row for row in page.tables["kv settings"] if len(row) == 2)
    assert settings["seed"] == "3" and settings["model"].endswith(ODD_NAME)
    assert settings["objectives"].startswith("latency then energy")
    assert settings["gamma version"] and settings["constraint"] == "maestro_cstr"
    totals = dict(row for row in page.tables["kv totals"] if len(row) == 2)
    assert totals["layers"] == "3" and totals["latency (cycles)"].replace(",", "").isdigit()
    header, *rows = page.tables["layers"]
    for label in ("latency (cycles)", "proven bound", "gap", "energy (nJ)", "area (µm²)", "L1 need",
                  "L2 need", "utilization", "mapping"):
        assert label in header
    assert [r[0].split()[0] for r in rows] == ["1", "2", "3"]
    util = header.index("utilization")
    assert all(r[util].endswith("%") for r in rows)
    nests = [text for cls, text in page.pres if cls == "loopnest"]
    assert len(nests) == len(list((run_dir / "mappings").glob("layer_*.m"))) == 3
    assert all("par_for" in n and "# level 1" in n for n in nests)
    # one image per plot, each a PNG data URI of that very file
    pngs = _pngs(run_dir)
    assert {p.name for p in pngs} >= {"convergence.png", "layers.png", "pareto_layer_1.png"}
    assert len(page.images) == len(pngs)
    embedded = sorted(base64.b64decode(img["src"].split(",", 1)[1]) for img in page.images)
    assert all(img["src"].startswith("data:image/png;base64,") for img in page.images)
    assert embedded == sorted(p.read_bytes() for p in pngs)


def test_report_file_is_self_contained_and_escaped(run_dir):
    path = run_dir / "report.html"
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    _check_page(Page(text), run_dir)
    # no external resources, no script
    for ref in re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", text, flags=re.I):
        assert ref.startswith(("data:", "#")), ref
    assert not re.search(r"https?://|<script|<link|@import|url\(", text, flags=re.I)
    # the odd model name is escaped everywhere, never raw
    assert "net<b>" not in text and '<b>&"q' not in text
    assert "net&lt;b&gt;&amp;&quot;q&#x27;.csv" in text


def test_report_of_a_partial_run(run_dir, tmp_path):
    """An interrupted or old run: only results.csv and the mappings."""
    shutil.copy(run_dir / "results.csv", tmp_path / "results.csv")
    shutil.copytree(run_dir / "mappings", tmp_path / "mappings")
    page = Page(write_report_html(tmp_path).read_text())
    assert len(page.tables["layers"]) == 4 and page.images == []
    text = (tmp_path / "report.html").read_text()
    assert "run.yaml is missing" in text and "No plots" in text and "No totals yet" in text


def test_loop_nest_of_a_two_level_mapping():
    text = """Network n { Layer L { Type: CONV
      Dimensions { K: 8, C: 4, Y: 6, X: 6, R: 3, S: 3 }
      Dataflow { SpatialMap(2,2) K; TemporalMap(4,4) C; TemporalMap(2,2) Y'; TemporalMap(4,4) X';
                 TemporalMap(3,3) R; TemporalMap(3,3) S;
                 Cluster(2,P); SpatialMap(1,1) K; TemporalMap(1,1) C; } } }"""
    nest = loop_nest(text, num_pes=8)
    lines = nest.splitlines()
    assert "# level 0: 8 PEs as 4 cluster(s) of 2 PE(s)" in lines
    assert lines[2] == "par_for k0 in range(0, 8, 2):  # K: tile 2, 4 steps, spatial over 4 cluster(s)"
    assert "  for yo0 in range(0, 4, 2):  # Y': tile 2, 2 steps" in nest
    inner = [line for line in lines if "k1 in" in line][0]
    assert inner == ("            par_for k1 in range(k0, k0 + 2, 1):  "
                     "# K: tile 1, 2 steps, spatial over 2 PE(s)")
    assert lines[-1].strip() == "MAC on the innermost tile"
    # something parse_mapping refuses: the directive lines, indented per cluster level
    raw = loop_nest("Dataflow {\nTemporalMap(1,1) Q;\nCluster(4,P);\nSpatialMap(1,1) C;\n}")
    assert raw.splitlines() == ["Dataflow:", "  TemporalMap(1,1) Q;", "  Cluster(4,P);",
                                "    SpatialMap(1,1) C;"]


# ------------------------------------------------------------------------------ browser

def _chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def _skip_reason() -> str:
    reason = ("headless-browser test needs Debian's chromium (`apt-get install chromium`); "
              ".ci/run installs it when run as root")
    ci_note = os.environ.get("GAMMA_CHROMIUM_SKIP_REASON")
    return f"{reason}; {ci_note}" if ci_note else reason


CHROMIUM = _chromium()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip(_skip_reason())
    profile = tmp_path_factory.mktemp("chromium-profile")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}"]

    def run(*args, cwd=None) -> subprocess.CompletedProcess:
        return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True,
                              timeout=180, cwd=cwd)
    return run


@pytest.mark.skipif(CHROMIUM is None, reason=_skip_reason())
def test_report_renders_in_headless_chromium(run_dir, browser, tmp_path):
    url = (run_dir / "report.html").resolve().as_uri()
    dom = browser("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<table" in dom.stdout, dom.stderr[-2000:]
    _check_page(Page(dom.stdout), run_dir)

    shot = tmp_path / "report.png"
    result = browser("--hide-scrollbars", "--window-size=1280,2400", f"--screenshot={shot}", url,
                     cwd=tmp_path)
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    import matplotlib.image
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 2400 and pixels.shape[1] == 1280
    colours = np.unique((pixels[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, tables and plots, not a blank or single-colour page


def test_gap_cell_marks_optimal_and_untrusted_results():
    from gamma.report_html import _gap_cell
    assert _gap_cell({"gap": "1.0004", "proven_optimal": "False"}) == "1.0004"
    assert "1 (optimal)" in _gap_cell({"gap": "1.0", "proven_optimal": "True"})
    below = _gap_cell({"gap": "0.98", "proven_optimal": "False"})
    assert 'class="bad"' in below and "0.9800" in below
    assert _gap_cell({}) == ""
