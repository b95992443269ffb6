"""The worked example of docs/maestro-model.md (§4.13) and the document's sections.

The example's mapping and its result table are read from the document itself,
so neither the document nor the cost model can drift without this test failing.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gamma.costmodel import evaluate
from gamma.hardware import Hardware
from gamma.maestro_files import parse_mapping

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "maestro-model.md"
#: The example's hardware (§4.13): 2 PEs, NoC 4 elements/cycle, 1 cycle per hop.
HARDWARE = Hardware(num_pes=2, noc_bw=4, noc_hops=1)


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _example_mapping(text: str) -> str:
    """The fenced block that follows the ``example-mapping`` marker."""
    match = re.search(r"<!-- example-mapping -->\s*```\n(.*?)```", text, re.S)
    assert match, "docs/maestro-model.md: example mapping block not found"
    return match.group(1)


def _example_results(text: str, marker: str = "example-results") -> dict[str, float]:
    """Field -> value rows of the table between ``<!-- marker -->`` and its end marker."""
    match = re.search(rf"<!-- {marker} -->(.*?)<!-- end-{marker} -->", text, re.S)
    assert match, f"docs/maestro-model.md: table {marker} not found"
    rows = {}
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and re.fullmatch(r"[a-z0-9_]+", cells[0]) and cells[0] != "field":
            rows[cells[0]] = float(cells[1])
    return rows


@pytest.fixture(scope="module")
def example():
    (layer, directives), = parse_mapping(_example_mapping(_doc()), "docs/maestro-model.md")
    return layer, evaluate(layer, HARDWARE, directives).row(0)


def test_example_layer_is_the_documented_one(example):
    layer, _ = example
    assert (layer.type, layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S) == (
        "CONV", 4, 2, 4, 4, 3, 3)
    assert layer.macs == 288


def test_hand_computed_numbers(example):
    """The step-by-step figures of §4.13."""
    _, costs = example
    # 16 steps: all-Init 9 + 7 cycles, the other 15 compute-bound at 9 cycles.
    assert costs["runtime"] == 16 + 9 * 15 == 151
    assert costs["macs"] == costs["true_macs"] == 288
    # Weighted ingress of the five case classes (weights 1, 1, 2, 4, 8).
    assert costs["input_l1_write"] == 1 * 9 + 1 * 0 + 2 * 9 + 4 * 9 + 8 * 3 == 87
    assert costs["filter_l1_write"] == 1 * 18 + 1 * 18 + 2 * 18 == 72
    assert costs["output_l2_write"] == 16 * 2
    # Output L1 size from input-space tiles (quirk 3): 2 * (1 * 3 * 3).
    assert costs["output_l1_size_req"] == 18
    assert costs["l2_size_req"] == 18 + 36 + 4
    assert costs["energy"] == pytest.approx(288 + 1.68 * 1311 + 18.61 * 311)
    assert costs["valid"] and costs["exact_analysis"]
    assert costs["busiest_pe_macs"] == 144 and not costs["undercount"]


def test_documented_table_matches_evaluate(example):
    _, costs = example
    table = _example_results(_doc())
    assert len(table) >= 30
    for name, value in table.items():
        assert costs[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_spatial_edge_variant():
    """The same mapping with K = 5: a K Edge step with one active PE (§4.13)."""
    text = _doc()
    mapping = _example_mapping(text).replace("K: 4,", "K: 5,")
    (layer, directives), = parse_mapping(mapping, "docs/maestro-model.md")
    costs = evaluate(layer, HARDWARE, directives).row(0)
    assert layer.macs == 360
    # 24 steps: the all-Init one (16 cycles) and 23 compute-bound ones (9 cycles).
    assert costs["runtime"] == 16 + 23 * 9
    assert costs["avg_utilized_pes"] == pytest.approx((16 * 2 + 8 * 1) / 24)
    assert costs["exact_analysis"] and not costs["undercount"]
    table = _example_results(text, "example-edge-results")
    assert len(table) == 8
    for name, value in table.items():
        assert costs[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def _cited_sections() -> set[str]:
    """Every ``§X.Y`` the package cites, ranges such as ``§4.4-4.6`` expanded."""
    cited = set()
    for path in (ROOT / "gamma").rglob("*.py"):
        for first, last in re.findall(r"§(\d+\.\d+)(?:-(\d+\.\d+))?", path.read_text("utf-8")):
            major, lo = first.split(".")
            hi = last.split(".")[1] if last else lo
            cited.update(f"{major}.{minor}" for minor in range(int(lo), int(hi) + 1))
    return cited


def test_every_cited_section_exists():
    headings = set(re.findall(r"^### (\d+\.\d+) ", _doc(), re.M))
    cited = _cited_sections()
    assert {"2.1", "4.1", "4.7", "4.12"} <= cited
    assert cited <= headings, sorted(cited - headings)


def test_cited_rule_and_quirk_exist():
    """``§2.1 rule c`` (stride rewrite) and ``§6.1 quirk 4`` (output rows)."""
    text = _doc()
    section_2_1 = text.split("### 2.1 ")[1].split("### 2.2 ")[0]
    assert "*(c) Stride rewrite.*" in section_2_1
    section_6_1 = text.split("### 6.1 ")[1].split("### 6.2 ")[0]
    assert re.search(r"^4\. \*\*Output L2 reads ignore the stride", section_6_1, re.M)
