"""Fixed dataflows (the shipped mapping-constraint plugins) give a feasible mapping
whose analysis is exact on every layer of resnet18 and mobilenet_v2, strided ones included.

The plugins under GAMMA's names hold GAMMA's constraints value for value
(tests/test_gamma_files.py).  Several fix an R x S *output* tile per step
(``"Y": "R"``, ``"X": "S"``) or spread filter rows across PEs; on strided
layers MAESTRO's analysis of those is inexact (its MAC count is not the
layer's), which no search can change: they are held to exactness on unstrided
layers, and the gap is pinned below.  The product's own variants
(``nvdla_ws_map``, ``eyeriss_rs_map``, ``tpu_gemm_map``, ``partial_order_map``,
``shi_map``, ``flexibility_classes.*``) are exact everywhere."""
import numpy as np
import pytest

from gamma import plugins
from gamma.constraints import MAESTRO_CSTR
from gamma.hardware import load_hardware
from gamma.plugins import check_against, combine, load_mapping_cstr, lower_layer
from gamma.search.ga import GAConfig, search_layer
from gamma.workload import load_model

NAMED = ["nvdla_ws_map", "eyeriss_rs_map", "shi_map", "tpu_gemm_map", "partial_order_map"]
CLASSES = sorted(n for n in plugins.available_plugins() if n.startswith("flexibility_classes."))
GAMMA_NAMED = ["dla_map", "eye_map", "tpu_map", "example_map"]
GAMMA_CLASSES = sorted(n for n in plugins.available_plugins()
                       if n.startswith("flexiblity_classes_example."))
#: Row-stationary classes spread filter rows R and output rows Y' over one
#: cluster; with a stride MAESTRO's analysis of that is inexact (its MAC count
#: differs from the layer's), so their strided layers are left out below.
ROW_STATIONARY = [n for n in CLASSES if ".eye." in n]


def distinct_layers(*models):
    """Every distinct layer shape of the models, in order of first appearance."""
    seen = {}
    for model in models:
        for layer in load_model(model):
            seen.setdefault(layer.shape_key, layer)
    return list(seen.values())


def problem(name, layer, hw, *, pop=10, epochs=2, seed=3, buffer_bound=False):
    """None if the plugin's search finds a feasible, exactly analysed mapping, else why not.

    With ``buffer_bound`` an exact best mapping that only overflows L1 or L2 is
    accepted too (for classes whose fixed tiles set the buffer need)."""
    run = combine(MAESTRO_CSTR, load_mapping_cstr(name))
    layer = lower_layer(layer) if run.lower_to_gemm else layer
    check_against(run, layer, hw)
    cfg = GAConfig(num_pop=pop, epochs=epochs, constraint=run.constraint)
    result = search_layer(layer, hw, cfg, np.random.default_rng(seed))
    s = result.best_scores
    exact = s["exact_analysis"] and s["macs"] == s["true_macs"] == layer.macs
    over = s["l1_size_req"] > hw.l1_limit or s["l2_size_req"] > hw.l2_limit
    if exact and (result.feasible or (buffer_bound and over)):
        return None
    return (f"{name} on {layer}: feasible {result.feasible}, exact {s['exact_analysis']}, "
            f"MACs {s['macs']} vs {layer.macs}, L1 {s['l1_size_req']}, L2 {s['l2_size_req']}")


def test_distinct_layers_cover_the_strided_ones():
    layers = distinct_layers("resnet18", "mobilenet_v2")
    assert sum(layer.stride == 2 for layer in layers) >= 8
    assert len({layer.shape_key for layer in layers}) == len(layers)


def test_nvdla_ws_map_walks_one_output_pixel_per_step():
    """nvdla_ws_map reads GAMMA's "Y": "R" as an R-row input window: one output row per step;
    dla_map keeps GAMMA's constraint, an R x S output tile."""
    cstr = load_mapping_cstr("nvdla_ws_map").constraint
    assert dict(cstr.level(1).tiles)["Y"] == 1 and dict(cstr.level(1).tiles)["X"] == 1
    gammas = load_mapping_cstr("dla_map").constraint
    assert dict(gammas.level(1).tiles)["Y"] == "R" and dict(gammas.level(1).tiles)["X"] == "S"
    assert load_mapping_cstr("yaml.dla_map").constraint.level(1).tiles == gammas.level(1).tiles


# resnet18 layer 2 (3x3, 56x56 outputs) and mobilenet_v2's first depthwise layer, both unstrided.
UNSTRIDED = [("resnet18", 1), ("mobilenet_v2", 1)]


@pytest.mark.parametrize("name", GAMMA_NAMED + GAMMA_CLASSES)
def test_gamma_named_plugins_are_exact_on_unstrided_layers(name):
    """GAMMA's own constraints: a feasible, exact mapping (or, for classes whose fixed
    tiles keep whole output rows per PE, an exact one over L1 only by its buffer need)."""
    hw = load_hardware("edge")
    layers = [load_model(model)[i] for model, i in UNSTRIDED]
    problems = [p for layer in layers
                if (p := problem(name, layer, hw, buffer_bound=name in GAMMA_CLASSES)) is not None]
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("gammas, ours", [("dla_map", "nvdla_ws_map"), ("example_map", "partial_order_map")])
def test_gamma_output_window_tiles_are_inexact_on_strided_layers(gammas, ours):
    """The documented gap: GAMMA's R x S output tile per step on a stride-2 layer is analysed
    with more MACs than the layer has; the product's variant of the same dataflow is exact."""
    hw = load_hardware("edge")
    layer = load_model("resnet18")[5]
    assert layer.stride == 2
    assert "exact False" in problem(gammas, layer, hw)
    assert problem(ours, layer, hw) is None


# resnet18's stride-2 layers: the 7x7 stem, a 3x3 and a 1x1 downsampling convolution;
# mobilenet_v2's first stride-2 depthwise layer.
STRIDED = [("resnet18", 0), ("resnet18", 5), ("resnet18", 7), ("mobilenet_v2", 4)]


@pytest.mark.parametrize("name", NAMED + ["flexibility_classes.dla.dla_map_0000"])
def test_named_maps_on_strided_layers(name):
    hw = load_hardware("edge")
    # eyeriss_rs_map and shi_map spread output rows/columns over PEs; on the C=3 stem
    # MAESTRO analyses few of those exactly, so the small budget here may miss
    # them: the slow test searches the stem with a larger budget
    chosen = STRIDED[1:] if name in ("eyeriss_rs_map", "shi_map") else STRIDED
    layers = [load_model(model)[i] for model, i in chosen]
    assert all(layer.stride == 2 for layer in layers)
    problems = [p for layer in layers if (p := problem(name, layer, hw)) is not None]
    assert not problems, "; ".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMED + CLASSES)
def test_every_plugin_on_every_layer(name):
    hw = load_hardware("edge")
    layers = distinct_layers("resnet18", "mobilenet_v2")
    if name in ROW_STATIONARY:
        layers = [layer for layer in layers if layer.stride == 1]
    budget = {"pop": 40, "epochs": 10} if name in ("eyeriss_rs_map", "shi_map") else {}
    # row-stationary classes with fixed tiles keep a whole output row per PE:
    # on 56-wide layers that needs more than edge's 512-element L1
    budget["buffer_bound"] = name in ROW_STATIONARY
    problems = [p for layer in layers if (p := problem(name, layer, hw, **budget)) is not None]
    assert not problems, f"{len(problems)} of {len(layers)} layers: " + "; ".join(problems[:3])


#: GAMMA's plugins whose constraint MAESTRO analyses exactly on strided layers too
#: (the TPU family runs every layer as its im2col GEMM, which has no stride).
GAMMA_STRIDE_SAFE = ["tpu_map"] + [n for n in GAMMA_CLASSES if ".tpu_dir." in n]
#: GAMMA's tpu classes 0000 and 1000 fix 16-wide K tiles spread over the clusters (L2
#: ``sp: K``, ``K: 16``): on an FC layer of K = 1000 outputs MAESTRO prices the uneven
#: last step short (503,808 of resnet18's 512,000 MACs), so the search finds no trusted
#: mapping there.  Those layers are left out of the sweep and the gap is pinned below.
UNEVEN_K_TILE = [n for n in GAMMA_CLASSES if n.endswith(("tpu_map_0000", "tpu_map_1000"))]


@pytest.mark.parametrize("name", UNEVEN_K_TILE)
def test_gamma_fixed_k_tile_is_inexact_on_uneven_fc(name):
    hw = load_hardware("edge")
    fc = load_model("resnet18")[-1]
    assert (fc.type, fc.K) == ("FC", 1000)
    assert "exact False, MACs 503808 vs 512000" in problem(name, fc, hw)


@pytest.mark.slow
@pytest.mark.parametrize("name", GAMMA_NAMED + GAMMA_CLASSES)
def test_every_gamma_plugin_on_every_layer(name):
    hw = load_hardware("edge")
    layers = distinct_layers("resnet18", "mobilenet_v2")
    if name not in GAMMA_STRIDE_SAFE:
        layers = [layer for layer in layers if layer.stride == 1]
    if name in UNEVEN_K_TILE:
        layers = [layer for layer in layers if layer.K % 16 == 0]
    budget = {"pop": 40, "epochs": 10} if name == "eye_map" else {}
    budget["buffer_bound"] = name in GAMMA_CLASSES
    problems = [p for layer in layers if (p := problem(name, layer, hw, **budget)) is not None]
    assert not problems, f"{len(problems)} of {len(layers)} layers: " + "; ".join(problems[:3])
