"""Mapping-constraint plugins: loading, validation, accel_cstr, GEMM lowering, and an
independent check of every mapping the search produces under each shipped plugin."""
import re
import runpy
from pathlib import Path

import numpy as np
import pytest
import yaml

from gamma import plugins
from gamma.constraints import MAESTRO_CSTR, MappingConstraint
from gamma.errors import GammaInputError
from gamma.hardware import Hardware, load_hardware
from gamma.plugins import Plugin, check_against, combine, load_accel_cstr, load_mapping_cstr, lower_layer
from gamma.workload import Layer, load_model

CSTR = plugins.CSTR_DIR
MAPPING_NAMES = [n for n in plugins.available_plugins() if not n.startswith("advanced_cstr.")]
ACCEL_NAMES = ["dla_accel", "eye_accel", "tpu_accel"]
YAML_TWINS = ["dla_map", "eye_map", "shi_map", "tpu_map", "example_map"]
CONV = Layer("CONV", K=64, C=64, Y=58, X=58, R=3, S=3)
EDGE = Hardware(num_pes=168, l1_size=512, l2_size=108000)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def test_shipped_set_is_complete():
    names = set(MAPPING_NAMES)
    for base in ("dla_map", "eye_map", "shi_map", "tpu_map", "example_map"):
        assert base in names and f"yaml.{base}" in names
    for accel in ("dla", "eye", "tpu"):
        ours = [n for n in names if n.startswith(f"flexibility_classes.{accel}.")]
        gammas = [n for n in names if n.startswith(f"flexiblity_classes_example.{accel}_dir.")]
        assert len(ours) == len(gammas) == 16
    for accel in ACCEL_NAMES:
        assert (CSTR / "advanced_cstr" / "accel_cstr" / f"{accel}.py").is_file()
    assert (CSTR / "README.md").is_file()


@pytest.mark.parametrize("name", MAPPING_NAMES)
def test_every_shipped_plugin_loads_and_fits_the_zoo(name):
    plugin = load_mapping_cstr(name)
    assert isinstance(plugin, Plugin) and isinstance(plugin.constraint, MappingConstraint)
    assert plugin.source.startswith("data/mapping_cstr/")
    assert plugin.lower_to_gemm == ("tpu" in name)
    first = (CSTR / Path(*name.split("."))).with_suffix(
        ".py" if plugin.source.endswith(".py") else ".yaml").read_text().splitlines()[0]
    assert first.startswith("#") and len(first) > 20          # says what it models
    run = combine(MAESTRO_CSTR, plugin)
    for model in ("resnet18", "mobilenet_v2"):
        for layer in load_model(model):
            check_against(run, lower_layer(layer) if plugin.lower_to_gemm else layer, EDGE)


@pytest.mark.parametrize("name", ACCEL_NAMES)
def test_accel_plugins_load(name):
    plugin = load_accel_cstr(name)
    assert plugin.lower_to_gemm == (name == "tpu_accel")
    assert load_accel_cstr(f"advanced_cstr.accel_cstr.{name}").constraint == plugin.constraint


@pytest.mark.parametrize("name", YAML_TWINS)
def test_yaml_and_python_forms_are_equal(name):
    py, ym = load_mapping_cstr(name), load_mapping_cstr(f"yaml.{name}")
    assert py.constraint.levels == ym.constraint.levels
    assert py.constraint.every_level == ym.constraint.every_level
    assert py.lower_to_gemm == ym.lower_to_gemm
    assert py.data == ym.data


def test_gamma_spellings_and_paths():
    """GAMMA's module path, its corrected spelling and the file path are GAMMA's file;
    the product's own class of the same number is another file."""
    a = load_mapping_cstr("flexiblity_classes_example.dla_dir.dla_map_0101")
    b = load_mapping_cstr("flexibility_classes_example.dla_dir.dla_map_0101")
    c = load_mapping_cstr(str(CSTR / "flexiblity_classes_example" / "dla_dir" / "dla_map_0101.py"))
    assert a.constraint == b.constraint == c.constraint
    assert a.path == c.path and a.path.endswith("flexiblity_classes_example/dla_dir/dla_map_0101.py")
    ours = load_mapping_cstr("flexibility_classes.dla.dla_map_0101")
    assert ours.path != a.path and ours.sha256 != a.sha256


def test_gamma_style_module_with_numpy_arrays(tmp_path):
    path = write(tmp_path, "mine.py", """
import numpy as np
mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K"]), "K": np.int64(4)}
mapping_cstr["L1"] = {"sp": np.array(["C"]), "sp2": np.array(["Y"]), "sp_sz": 16,
                      "order": np.array(["Y", "X"]), "Y": [1, "R"], "C": 1}
""")
    plugin = load_mapping_cstr(str(path))
    l1 = plugin.constraint.level(1)
    assert plugin.constraint.level(0).sp == ("K",) and dict(plugin.constraint.level(0).tiles) == {"K": 4}
    assert (l1.sp, l1.sp2, l1.sp_sz, l1.order) == (("C",), "Y", 16, ("Y", "X"))
    assert dict(l1.tiles) == {"C": 1, "Y": "R"}
    assert plugin.lower_to_gemm is False
    assert type(plugin.data["L2"]["K"]) is int


def test_partial_order_pins_the_innermost_loops():
    from gamma.constraints import apply, check
    from gamma.search.space import SearchSpace, random_population
    plugin = load_mapping_cstr("partial_order_map")
    space = SearchSpace(layer=CONV, num_pes=168, constraint=combine(MAESTRO_CSTR, plugin).constraint)
    pop = random_population(space, 50, np.random.default_rng(1))
    apply(pop, space.constraint, CONV, 168, rng=np.random.default_rng(2))
    assert check(pop, space.constraint, CONV, 168).all()
    # loops at L1, outermost first: the last four are Y', X', R, S
    assert (pop.order[:, 1, 2:] == [2, 3, 4, 5]).all()


# ---------------------------------------------------------------------------
# Bad plugins: one line naming the file and the key
# ---------------------------------------------------------------------------

BAD_YAML = [
    ("L1:\n  sp: [Q]\n", r"bad\.yaml: L1\.sp: unknown dimension 'Q'"),
    ("L4:\n  sp: [K]\n", r"bad\.yaml: L4: unknown level"),
    ("L1:\n  spz: 3\n", r"bad\.yaml: L1\.spz: unknown key"),
    ("L2:\n  order: [K, K]\n", r"bad\.yaml: L2\.order: dimension 'K' is listed twice"),
    ("L1:\n  sp_sz: 0\n", r"bad\.yaml: L1\.sp_sz: the cluster size must be a positive int"),
    ("L1:\n  K: -2\n", r"bad\.yaml: L1\.K: a tile must be a positive int"),
    ("L1:\n  Y: \"Y'\"\n", r"bad\.yaml: L1\.Y: unknown dimension \"Y'\""),
    ("L1:\n  sp: [K]\n  sp2: K\n", r"bad\.yaml: L1\.sp2: 'K' is also the only allowed 'sp'"),
    ("L2:\n  C: 4\nL1:\n  C: 8\n", r"bad\.yaml: L1\.C: fixed tile 8 is larger than L2\.C = 4"),
    ("L1:\n  sp: [K]\n  sp: [C]\n", r"bad\.yaml:3: duplicate key 'sp'"),
    ("L1: {sp: [K]\n", r"bad\.yaml:\d+: not valid YAML"),
    ("- L1\n", r"bad\.yaml: expected a mapping"),
    ("lower_to_gemm: 3\nL1: {}\n", r"bad\.yaml: lower_to_gemm: expected true or false"),
    ("L1: {}\nextra: 1\n", r"bad\.yaml: extra: unknown level or key"),
]


@pytest.mark.parametrize("text,message", BAD_YAML)
def test_bad_yaml_plugins(tmp_path, text, message):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(GammaInputError, match=message) as err:
        load_mapping_cstr(str(path))
    assert "\n" not in str(err.value)


BAD_PY = [
    ("mapping_cstr = {\"L1\": {\"sp\": [\"Q\"]}}\n", r"bad\.py: L1\.sp: unknown dimension 'Q'"),
    ("mapping_cstr = {\n  \"L1\": {\"sp\": [\"K\"]\n", r"bad\.py:\d+: Python syntax error"),
    ("import numpy as np\nraise RuntimeError('boom\\nagain')\n",
     r"bad\.py: the plugin raised RuntimeError when imported \(boom again\)"),
    ("import no_such_module_xyz\n", r"bad\.py: the plugin raised ModuleNotFoundError"),
    ("accel_cstr = {}\n", r"bad\.py: the module defines no 'mapping_cstr'"),
    ("mapping_cstr = [1, 2]\n", r"bad\.py: mapping_cstr must be a dict"),
    ("mapping_cstr = {\"L1\": {\"order\": \"KC\"}}\n", r"bad\.py: L1\.order: unknown dimension 'KC'"),
    ("import sys\nsys.exit(3)\n", r"bad\.py: the plugin raised SystemExit"),
]


@pytest.mark.parametrize("text,message", BAD_PY)
def test_bad_python_plugins(tmp_path, text, message):
    path = write(tmp_path, "bad.py", text)
    with pytest.raises(GammaInputError, match=message) as err:
        load_mapping_cstr(str(path))
    assert "\n" not in str(err.value)


def test_bad_names():
    with pytest.raises(GammaInputError, match=r"--mapping_cstr: no plugin 'nope_map'.*available: .*dla_map"):
        load_mapping_cstr("nope_map")
    with pytest.raises(GammaInputError, match=r"--mapping_cstr: file /no/such\.py does not exist"):
        load_mapping_cstr("/no/such.py")
    with pytest.raises(GammaInputError, match=r"--accel_cstr: no plugin 'fpga_accel'"):
        load_accel_cstr("fpga_accel")
    with pytest.raises(GammaInputError, match=r"--mapping_cstr: file flexibility_classes/eye/"
                                              r"eye_map_2222 does not exist"):
        load_mapping_cstr("flexibility_classes/eye/eye_map_2222")


def test_a_plugin_folder_path_names_the_plugin(tmp_path, monkeypatch):
    """``flexibility_classes/eye/eye_map_0000`` (with or without ``.py``), typed from any
    folder, is the shipped file the dotted name reaches."""
    monkeypatch.chdir(tmp_path)
    dotted = load_mapping_cstr("flexibility_classes.eye.eye_map_0000")
    for spec in ("flexibility_classes/eye/eye_map_0000", "flexibility_classes/eye/eye_map_0000.py",
                 "yaml/eye_map.yaml", "eye_map.py"):
        path = Path(load_mapping_cstr(spec).path)
        assert path.is_file() and path.name == Path(spec).with_suffix(path.suffix).name
    assert Path(load_mapping_cstr("yaml/eye_map.yaml").path).suffix == ".yaml"
    assert load_mapping_cstr("flexibility_classes/eye/eye_map_0000").path == dotted.path
    with pytest.raises(GammaInputError, match=r"file eye_map\.yaml does not exist"):
        load_mapping_cstr("eye_map.yaml")       # a suffix is kept: eye_map.py is not taken for it


def test_shipped_files_are_in_the_messages(tmp_path):
    # A path inside the project is shown relative to it, as users write it.
    path = CSTR / "_tmp_bad_for_test.yaml"
    try:
        path.write_text("L1:\n  sp: [Q]\n")
        with pytest.raises(GammaInputError) as err:
            load_mapping_cstr(str(path))
        assert str(err.value).startswith("data/mapping_cstr/_tmp_bad_for_test.yaml: L1.sp: "
                                         "unknown dimension 'Q'")
    finally:
        path.unlink()


# ---------------------------------------------------------------------------
# accel_cstr
# ---------------------------------------------------------------------------

def test_accel_translation_rules():
    t = plugins.translate_accel
    assert t({"L1": {"inbuffer": "FIFO"}}) == {"L1": {"Y": "R", "X": "S"}}
    assert t({"L2": {"distrNoc": "Bus"}}) == {"L2": {"sp": ["K", "Y", "X", "R", "S"]}}
    assert t({"L2": {"distrNoc": "Tree", "reduceNoc": "Temporal"}}) == {"L2": {"sp": ["K", "Y", "X"]}}
    # as in GAMMA, the last NoC entry with a rule sets sp (the reduction NoC's here)
    assert t({"L2": {"distrNoc": "Bus", "reduceNoc": "AdderTree"}}) == {"L2": {"sp": ["C", "R", "S"]}}
    everything_but_c = {"L2": {"sp": ["K", "Y", "X", "R", "S"]}}
    assert t({"L2": {"reduceNoc": "AdderTree", "distrNoc": "Bus"}}) == everything_but_c
    assert t({"L2": {"distrNoc": "Bus", "reduceNoc": "Systolic"}}) == everything_but_c
    assert (t({"L2": {"distrNoc": "Systolic", "reduceNoc": "ReduceAndFoward"}})
            == {"L2": {"sp": ["C", "R", "S"]}})
    assert t({"L2": {"distrNoc": "Systolic", "reduceNoc": "Systolic"}}) == {"L2": {}}
    assert t({"L1": {"outbuffer": "ScratchPad"}}) == {"L1": {}}
    with pytest.raises(GammaInputError, match=r"a\.py: L1\.distrNoc: unknown kind 'Mesh'"):
        t({"L1": {"distrNoc": "Mesh"}}, "a.py")
    with pytest.raises(GammaInputError, match=r"a\.py: L1\.noc: unknown key"):
        t({"L1": {"noc": "Bus"}}, "a.py")
    with pytest.raises(GammaInputError, match=r"a\.py: L0: unknown level"):
        t({"L0": {}}, "a.py")


def test_shipped_accel_plugins_translate_as_documented():
    # GAMMA's files: dla L2 Systolic + Temporal, L1 FIFOs, Systolic + ReduceAndFoward;
    # eye L2 Bus + ReduceAndFoward, L1 Bus + Temporal; tpu L1 FIFOs, Bus + AdderTree
    dla = load_accel_cstr("dla_accel").constraint
    assert dla.level(0).sp == ("K", "Y", "X")
    assert dla.level(1).sp == ("C", "R", "S") and dict(dla.level(1).tiles) == {"Y": "R", "X": "S"}
    eye = load_accel_cstr("eye_accel").constraint
    assert eye.level(0).sp == ("C", "R", "S") and eye.level(1).sp == ("K", "Y", "X")
    tpu = load_accel_cstr("tpu_accel").constraint
    assert tpu.level(0).sp == ("K", "Y", "X") and tpu.level(1).sp == ("C", "R", "S")


def test_accel_yaml_and_bad_accel(tmp_path):
    good = write(tmp_path, "acc.yaml", "L2: {distrNoc: Bus, reduceNoc: Temporal}\nL1: {inbuffer: FIFO}\n")
    p = load_accel_cstr(str(good))
    assert p.constraint.level(0).sp == ("K", "Y", "X")
    assert dict(p.constraint.level(1).tiles) == {"Y": "R", "X": "S"}
    bad = write(tmp_path, "acc.py", "accel_cstr = {'L1': {'inbuffer': 'Fifo'}}\n")
    with pytest.raises(GammaInputError, match=r"acc\.py: L1\.inbuffer: unknown kind 'Fifo'"):
        load_accel_cstr(str(bad))


def test_combine_intersects_parallel_dims_and_keeps_maestro_rule():
    run = combine(MAESTRO_CSTR, load_accel_cstr("dla_accel"), load_mapping_cstr("dla_map"))
    assert run.constraint.level(0).sp == ("K",) and run.constraint.level(1).sp == ("C",)
    assert dict(run.constraint.level(1).tiles)["R"] == "R"
    tpu = combine(MAESTRO_CSTR, load_mapping_cstr("tpu_map"))
    assert tpu.lower_to_gemm and dict(tpu.constraint.level(1).tiles)["R"] == "R"
    with pytest.raises(GammaInputError, match=r"tpu_map\.py: L2\.sp: allows \['K'\] but .*eye_accel"):
        combine(MAESTRO_CSTR, load_accel_cstr("eye_accel"), load_mapping_cstr("tpu_map"))


# ---------------------------------------------------------------------------
# GEMM lowering
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2", "vgg16", "BERT_m", "ncf_m"])
def test_lower_layer_keeps_the_macs_exact(model):
    for layer in load_model(model):
        gemm = lower_layer(layer)
        assert gemm.macs == layer.macs
        assert (gemm.X, gemm.R, gemm.S, gemm.stride) == (1, 1, 1, 1)
        if layer.type in ("CONV", "DSCONV"):
            assert gemm.type == "GEMM" and gemm.C == layer.R * layer.S * layer.C
            assert layer.Yo * layer.Xo == gemm.Y


def test_lower_layer_examples():
    conv = Layer("CONV", K=128, C=64, Y=58, X=58, R=3, S=3, stride=2)
    g = lower_layer(conv)
    assert (g.K, g.C, g.Y) == (128, 576, 28 * 28) and g.macs == conv.macs == 128 * 64 * 9 * 28 * 28
    with pytest.raises(GammaInputError, match="TRCONV"):
        lower_layer(Layer("TRCONV", K=8, C=8, Y=8, X=8, R=3, S=3))


# ---------------------------------------------------------------------------
# check_against
# ---------------------------------------------------------------------------

def plugin_from(tmp_path, text, name="p.yaml"):
    return load_mapping_cstr(str(write(tmp_path, name, text)))


def test_check_against_errors(tmp_path):
    small = Layer("CONV", K=16, C=3, Y=9, X=9, R=3, S=3)   # Y' = X' = 7
    cases = [
        ("L1: {sp_sz: 200}\n", r"p\.yaml: L1\.sp_sz: cluster size 200 is larger than the 168 PEs"),
        ("L1: {sp_sz: 16}\nL3: {sp_sz: 16}\n",
         r"p\.yaml: L3\.sp_sz: fixed cluster sizes L1\.sp_sz=16 x L3\.sp_sz=16 need 256 PEs"),
        ("L2: {K: 2}\nL1: {K: K, Y: 5}\nL3: {Y: Y, K: 4}\n",
         r"p\.yaml: L3\.K: fixed tile 4 is larger than L1's K tile 2"),
        ("L2: {Y: 2}\nL1: {Y: R}\n",
         r"p\.yaml: L1\.Y: the tile 'R' resolves to 3 .* larger than L2's Y tile 2"),
    ]
    for text, message in cases:
        plugin = combine(MAESTRO_CSTR, plugin_from(tmp_path, text))    # R, S full at every level
        with pytest.raises(GammaInputError, match=message) as err:
            check_against(plugin, small, EDGE)
        assert "\n" not in str(err.value)
    # fine: a fixed tile above the layer's size is the whole dimension (GAMMA's dla_map_0000
    # fixes C: 64 on every layer); tiles by dimension name adapt to the layer; K is ignored
    # for depthwise layers
    check_against(plugin_from(tmp_path, "L2: {C: 4}\nL1: {Y: 8}\n"), small, EDGE)
    check_against(plugin_from(tmp_path, "L2: {K: 64, Y: X}\nL1: {sp_sz: 168}\n"),
                  Layer("DSCONV", K=1, C=32, Y=16, X=16, R=3, S=3), EDGE)
    check_against(plugin_from(tmp_path, "L1: {sp_sz: 16}\n").constraint, small, 16, "x.yaml")
    with pytest.raises(GammaInputError, match=r"^x\.yaml: L1\.sp_sz"):
        check_against(plugin_from(tmp_path, "L1: {sp_sz: 16}\n").constraint, small, 8, "x.yaml")


# ---------------------------------------------------------------------------
# The independent checker
# ---------------------------------------------------------------------------
# Written from the plugin format's description only (data/mapping_cstr/README.md), not from
# gamma.constraints: it reads the plugin file itself and a mapping's MAESTRO text.

_DIRECTIVE = re.compile(r"^(Temporal|Spatial)Map\((\d+),(\d+)\)\s+([A-Z])'?;$")
_CLUSTER = re.compile(r"^Cluster\((\d+),P\);$")


def read_rules(path: Path) -> dict:
    """The plugin's constraint dictionary, read straight from the file."""
    if path.suffix == ".py":
        raw = runpy.run_path(str(path))["mapping_cstr"]
    else:
        raw = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k != "lower_to_gemm"}

    def plain(v):
        if isinstance(v, np.ndarray):
            return [str(x) for x in v.tolist()]
        return v
    return {level: {k: plain(v) for k, v in body.items()} for level, body in raw.items()}


def parse_maestro(text: str):
    """Layer sizes and levels (cluster size, loops outermost first) of a MAESTRO mapping."""
    dims = dict((k, int(v)) for k, v in re.findall(r"([A-Z]):\s*(\d+)", text.split("Dimensions")[1]
                                                    .split("}")[0]))
    kind = re.search(r"Type:\s*(\w+)", text).group(1)
    levels = [{"cluster": None, "loops": []}]
    body = text.split("Dataflow {")[1].split("}")[0]
    for line in (s.strip() for s in body.splitlines()):
        if not line:
            continue
        m = _CLUSTER.match(line)
        if m:
            levels.append({"cluster": int(m.group(1)), "loops": []})
            continue
        m = _DIRECTIVE.match(line)
        assert m, line
        levels[-1]["loops"].append((m.group(4), int(m.group(2)), m.group(1) == "Spatial"))
    return kind, dims, levels


def independent_violations(rules: dict, text: str, num_pes: int, maestro_rs: bool = True) -> list[str]:
    """Every way the mapping in ``text`` breaks ``rules`` (empty: it satisfies them)."""
    kind, dims, levels = parse_maestro(text)
    full = {"K": 1 if kind == "DSCONV" else dims["K"], "C": dims["C"],
            "Y": dims["Y"] - dims["R"] + 1, "X": dims["X"] - dims["S"] + 1, "R": dims["R"], "S": dims["S"]}
    out = []
    names = ["L2", "L1", "L3"]
    for i, level in enumerate(levels):
        tile = {d: t for d, t, _ in level["loops"]}
        if kind == "DSCONV":
            tile["K"] = 1
        parent = full if i == 0 else {**{d: t for d, t, _ in levels[i - 1]["loops"]},
                                      **({"K": 1} if kind == "DSCONV" else {})}
        spatial = {d for d, _, sp in level["loops"] if sp}
        loops = [d for d, _, _ in level["loops"]]
        key = names[i]
        for d in full:
            if not 1 <= tile[d] <= parent[d]:
                out.append(f"{key}: tile {d}={tile[d]} outside [1, parent {parent[d]}]")
        if maestro_rs:     # MAESTRO rejects a partial R/S TemporalMap (a SpatialMap may split it)
            for d in "RS":
                if d not in spatial and tile[d] != parent[d]:     # full within its parent's tile
                    out.append(f"{key}: MAESTRO needs {d} full ({parent[d]}), got {tile[d]}")
        r = rules.get(key, {})
        sp2 = r.get("sp2")
        sp2 = sp2[0] if isinstance(sp2, list) else sp2
        if "sp" in r:
            primary = set(r["sp"])
            if kind == "DSCONV" and "K" in primary:
                primary.add("C")   # no K directive in a depthwise layer: K parallel is written as C
            allowed = primary | ({sp2} if sp2 else set())
            hidden_k = kind == "DSCONV" and "K" in r["sp"] and not (spatial - {sp2})
            if not hidden_k and (not spatial & primary or not spatial <= allowed):
                out.append(f"{key}: parallel dims {sorted(spatial)} not within sp={r['sp']}")
        if sp2 and (sp2 not in spatial or len(spatial) != 2):
            out.append(f"{key}: expected two parallel dims incl. sp2={sp2}, got {sorted(spatial)}")
        if "order" in r:
            want = [d for d in r["order"] if not (kind == "DSCONV" and d == "K")]
            if loops[len(loops) - len(want):] != want:
                out.append(f"{key}: innermost loops {loops[len(loops) - len(want):]} != order {want}")
        for d in full:
            if d not in r or (kind == "DSCONV" and d == "K") or (maestro_rs and d in "RS"):
                continue    # the cost-model rule (R, S full) overrides a plugin's R/S tiles
            value = r[d][1] if isinstance(r[d], list) else r[d]
            if (d, value) in (("Y", "R"), ("X", "S")):
                value = 1       # the filter's window of input rows: one output row per step
            target = min(value if isinstance(value, int) else parent[value], full[d])
            if tile[d] != target:
                out.append(f"{key}: tile {d}={tile[d]}, constraint {r[d]!r} wants {target}")
        if i and "sp_sz" in r:
            c, v = level["cluster"], r["sp_sz"]
            if isinstance(v, int) and c != min(v, num_pes):
                out.append(f"{key}: cluster {c} != sp_sz {v}")
            if isinstance(v, str) and not 1 <= c <= min(parent[v], num_pes):
                out.append(f"{key}: cluster {c} outside [1, min(parent {v}={parent[v]}, {num_pes})]")
    return out


def test_independent_checker_catches_violations():
    rules = {"L2": {"sp": ["K"]}, "L1": {"sp": ["C"], "sp_sz": 16, "order": ["Y", "X"], "C": 1, "Y": "R"}}
    good = """Network n {\nLayer L {\nType: CONV\nDimensions { K: 64, C: 64, Y: 58, X: 58, R: 3, S: 3 }
Dataflow {\nSpatialMap(8,8) K;\nTemporalMap(64,64) C;\nTemporalMap(4,4) Y';\nTemporalMap(56,56) X';
TemporalMap(3,3) R;\nTemporalMap(3,3) S;\nCluster(16,P);\nSpatialMap(1,1) C;\nTemporalMap(8,8) K;
TemporalMap(3,3) R;\nTemporalMap(3,3) S;\nTemporalMap(1,1) Y';\nTemporalMap(7,7) X';\n}\n}\n}\n"""
    assert independent_violations(rules, good, 168) == []
    bad = (good.replace("SpatialMap(8,8) K;\nTemporalMap(64,64) C;",
                        "TemporalMap(8,8) K;\nSpatialMap(64,64) C;")
           .replace("Cluster(16,P)", "Cluster(12,P)").replace("TemporalMap(1,1) Y'", "TemporalMap(2,2) Y'"))
    problems = " | ".join(independent_violations(rules, bad, 168))
    for expected in ("L2: parallel dims ['C'] not within sp=['K']", "cluster 12 != sp_sz 16",
                     "tile Y=2, constraint 'R' wants 1"):
        assert expected in problems


def _search(plugin, layer, hw, seed=7, pop=10, epochs=5):
    from gamma.search.ga import GAConfig, search_layer
    run = combine(MAESTRO_CSTR, plugin)
    layer = lower_layer(layer) if run.lower_to_gemm else layer
    check_against(run, layer, hw)
    cfg = GAConfig(num_pop=pop, epochs=epochs, constraint=run.constraint, slevel_min=2, slevel_max=2)
    return layer, search_layer(layer, hw, cfg, np.random.default_rng(seed))


def _all_scored(layer, hw, plugin, seed=7, pop=10, epochs=5):
    """Every candidate the GA scores (the population of each generation), via the cost-model hook."""
    from gamma.costmodel import evaluate as real
    from gamma.search.ga import GAConfig, search_layer
    seen = []

    def spy(layer_, hw_, directives):
        seen.append(directives)
        return real(layer_, hw_, directives)
    run = combine(MAESTRO_CSTR, plugin)
    layer = lower_layer(layer) if run.lower_to_gemm else layer
    cfg = GAConfig(num_pop=pop, epochs=epochs, constraint=run.constraint)
    result = search_layer(layer, hw, cfg, np.random.default_rng(seed), evaluate=spy)
    return layer, result, seen


# resnet18 layers 2 and 17 (0-based 1, 16): 56x56 and 7x7 outputs, 64 and 512 channels.  Strided
# layers: see test_strided_layers_under_fixed_tiles below.
SEARCH_LAYERS = [1, 16]


@pytest.mark.parametrize("name", MAPPING_NAMES + [f"accel:{a}" for a in ACCEL_NAMES])
def test_search_results_satisfy_the_plugin(name):
    from gamma.maestro_files import write_mapping
    from gamma.mapping import to_maestro_text
    hw = load_hardware("edge")
    if name.startswith("accel:"):
        plugin = load_accel_cstr(name[6:])
        rules = plugin.data    # the translation is tested on its own above
    else:
        plugin = load_mapping_cstr(name)
        rules = read_rules(CSTR / plugin.source.split("data/mapping_cstr/")[1])
    chosen = [(f"resnet18 layer {i + 1}", load_model("resnet18")[i]) for i in SEARCH_LAYERS]
    chosen.append(("mobilenet_v2 layer 2 (depthwise)", load_model("mobilenet_v2")[1]))
    problems = []
    for index, layer in chosen:
        layer, result, batches = _all_scored(layer, hw, plugin)
        text = to_maestro_text(result.best, 0, layer)
        problems += [f"best of {index}: {p}" for p in independent_violations(rules, text, hw.num_pes)]
        for gen, directives in enumerate(batches):
            for j in range(len(directives.num_levels)):
                text = write_mapping(layer, directives.take(j))
                problems += [f"{index} gen {gen} #{j}: {p}"
                             for p in independent_violations(rules, text, hw.num_pes)]
    assert not problems, f"{len(problems)} violations, e.g. " + "; ".join(problems[:5])


@pytest.mark.parametrize("name", YAML_TWINS)
def test_yaml_and_python_give_the_same_search(name):
    from gamma.mapping import to_maestro_text
    hw = load_hardware("edge")
    layer = load_model("resnet18")[2]
    a_layer, a = _search(load_mapping_cstr(name), layer, hw, seed=11)
    b_layer, b = _search(load_mapping_cstr(f"yaml.{name}"), layer, hw, seed=11)
    assert a_layer == b_layer
    assert to_maestro_text(a.best, 0, a_layer) == to_maestro_text(b.best, 0, b_layer)
    assert a.best_scores == b.best_scores
    assert a.history.equals(b.history)


@pytest.mark.parametrize("name", ["nvdla_ws_map", "flexibility_classes.eye.eye_map_0000"])
def test_strided_layers_under_fixed_tiles(name):
    from gamma.mapping import to_maestro_text
    hw = load_hardware("edge")
    plugin = load_mapping_cstr(name)
    rules = read_rules(CSTR / plugin.source.split("data/mapping_cstr/")[1])
    layer, result = _search(plugin, load_model("resnet18")[5], hw)
    assert independent_violations(rules, to_maestro_text(result.best, 0, layer), hw.num_pes) == []
