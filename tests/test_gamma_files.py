"""GAMMA's files are GAMMA's files: the shipped plugins under GAMMA's names hold GAMMA's
constraints value for value, and a file the user names (GAMMA's module path, GAMMA's folder
under the working directory, or a path) is the one that runs.

``fixtures/gamma_constraints.json`` is GAMMA's published files transcribed by
``tools/gamma_files/transcribe.py``."""
import hashlib
import json
import runpy
from pathlib import Path

import pytest

from gamma import plugins
from gamma.constraints import MAESTRO_CSTR
from gamma.errors import GammaInputError
from gamma.files import plain
from gamma.plugin_checks import validate_levels
from gamma.plugins import combine, load_accel_cstr, load_mapping_cstr, translate_accel

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "gamma_constraints.json").read_text())
GAMMA_PLUGINS = FIXTURE["plugins"]
TOOLS = ROOT / "tools" / "gamma_files"


def module_path(rel: str) -> str:
    """GAMMA's ``--mapping_cstr`` spelling of a file under data/mapping_cstr."""
    return ".".join(Path(rel).relative_to("data/mapping_cstr").with_suffix("").parts)


def test_fixture_covers_gammas_files():
    names = [module_path(rel) for rel in GAMMA_PLUGINS]
    assert {"dla_map", "eye_map", "tpu_map", "example_map"} <= set(names)
    assert sum(n.startswith("flexiblity_classes_example.") for n in names) == 48
    assert sum(n.startswith("advanced_cstr.accel_cstr.") for n in names) == 3
    assert FIXTURE["hwconfigs"]["data/HWconfigs/hw_config.m"]["NumPEs"] == 168


@pytest.mark.parametrize("rel", sorted(GAMMA_PLUGINS))
def test_shipped_plugin_is_gammas_constraint(rel):
    entry = GAMMA_PLUGINS[rel]
    shipped = ROOT / rel
    raw = plain(runpy.run_path(str(shipped))[entry["variable"]])
    assert raw == entry["levels"]                       # the file, value for value
    name = module_path(rel)
    if entry["variable"] == "accel_cstr":
        loaded = load_accel_cstr(name)
        assert loaded.data == validate_levels(translate_accel(entry["levels"]), rel)
    else:
        loaded = load_mapping_cstr(name)
        assert loaded.data == validate_levels(entry["levels"], rel)
    assert loaded.path == str(shipped)                  # GAMMA's name runs GAMMA's file


def test_gamma_class_has_gammas_64_pe_clusters():
    plugin = load_mapping_cstr("flexiblity_classes_example.dla_dir.dla_map_0000")
    assert plugin.constraint.level(1).sp_sz == 64
    assert dict(plugin.constraint.level(0).tiles)["C"] == 64


def test_shipped_files_are_what_the_tool_writes():
    write_plugins = runpy.run_path(str(TOOLS / "write_plugins.py"))
    for rel, entry in GAMMA_PLUGINS.items():
        assert (ROOT / rel).read_text() == write_plugins["python_text"](rel, entry), rel


def test_transcribe_tool_reads_a_gamma_tree(tmp_path):
    tree = tmp_path / "gamma"
    (tree / "data" / "mapping_cstr" / "advanced_cstr" / "costmodel_cstr").mkdir(parents=True)
    (tree / "data" / "mapping_cstr" / "mine.py").write_text(
        'import numpy as np\nmapping_cstr = {}\nmapping_cstr["L1"] = {"sp": np.array(["C"]), "C": 1}\n')
    (tree / "data" / "mapping_cstr" / "advanced_cstr" / "costmodel_cstr" / "m.py").write_text("x = 1\n")
    (tree / "data" / "HWconfigs").mkdir(parents=True)
    (tree / "data" / "HWconfigs" / "hw_config.m").write_text("NumPEs: 8\nL1Size: 4")
    (tree / "data" / "model").mkdir(parents=True)
    (tree / "data" / "model" / "net.csv").write_text("K,C,Y,X,R,S,T\n4,3,8,8,3,3,1\n5,4,8,8,3,3,1\n")
    out = tmp_path / "out.json"
    assert runpy.run_path(str(TOOLS / "transcribe.py"))["main"]([str(tree), "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["plugins"] == {"data/mapping_cstr/mine.py": {"variable": "mapping_cstr",
                                                             "levels": {"L1": {"sp": ["C"], "C": 1}}}}
    assert data["hwconfigs"] == {"data/HWconfigs/hw_config.m": {"NumPEs": 8, "L1Size": 4}}
    assert data["models"] == {"data/model/net.csv": ["K,C,Y,X,R,S,T", "4,3,8,8,3,3,1"]}


# ---------------------------------------------------------------------------
# The user's file wins
# ---------------------------------------------------------------------------

USER_DLA = """import numpy as np
mapping_cstr = {}
mapping_cstr["L2"] = {"sp": np.array(["K"])}
mapping_cstr["L1"] = {"sp": np.array(["C"]), "sp_sz": 32}
"""


@pytest.fixture
def gamma_tree(tmp_path, monkeypatch):
    """A working directory laid out as GAMMA's, holding edited copies of its files."""
    folder = tmp_path / "data" / "mapping_cstr"
    (folder / "flexiblity_classes_example" / "dla_dir").mkdir(parents=True)
    (folder / "advanced_cstr" / "accel_cstr").mkdir(parents=True)
    (folder / "flexiblity_classes_example" / "dla_dir" / "dla_map_0000.py").write_text(USER_DLA)
    (folder / "dla_map.py").write_text(USER_DLA)
    (folder / "advanced_cstr" / "accel_cstr" / "dla_accel.py").write_text(
        'accel_cstr = {"L2": {"distrNoc": "Bus", "reduceNoc": "Bus"}}\n')
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.mark.parametrize("spec", ["flexiblity_classes_example.dla_dir.dla_map_0000",
                                  "flexibility_classes_example.dla_dir.dla_map_0000",
                                  "data/mapping_cstr/flexiblity_classes_example/dla_dir/dla_map_0000.py",
                                  "dla_map"])
def test_the_users_file_runs(gamma_tree, spec):
    plugin = load_mapping_cstr(spec)
    assert plugin.constraint.level(1).sp_sz == 32
    rel = "dla_map.py" if spec == "dla_map" else "flexiblity_classes_example/dla_dir/dla_map_0000.py"
    user_file = gamma_tree / rel
    assert plugin.path == str(user_file.resolve())
    assert plugin.sha256 == hashlib.sha256(user_file.read_bytes()).hexdigest()


def test_the_users_accel_file_runs_and_combine_records_every_file(gamma_tree):
    accel = load_accel_cstr("dla_accel")
    assert accel.constraint.level(0).sp == ("K", "Y", "X", "R", "S")
    assert accel.path == str((gamma_tree / "advanced_cstr" / "accel_cstr" / "dla_accel.py").resolve())
    shipped = load_mapping_cstr("shi_map")          # not in the user's folder: the shipped one
    assert shipped.path == str(plugins.CSTR_DIR / "shi_map.py")
    run = combine(MAESTRO_CSTR, accel, shipped)
    assert run.files == accel.files + shipped.files and len(run.files) == 2


def test_unknown_name_says_where_it_looked(gamma_tree):
    with pytest.raises(GammaInputError) as err:
        load_mapping_cstr("flexiblity_classes_example.dla_dir.dla_map_9999")
    message = str(err.value)
    assert "flexiblity_classes_example/dla_dir/dla_map_9999.py" in message
    assert "./data/mapping_cstr" in message and "data/mapping_cstr (shipped)" in message
    assert "dla_map" in message and "\n" not in message
