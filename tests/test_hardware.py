"""Hardware configurations in the three file formats, overrides and bad input."""
import pytest

from gamma.errors import GammaInputError
from gamma.hardware import AreaModel, Hardware, available_hwconfigs, load_hardware


def test_shipped_yaml_configs():
    assert {"edge", "cloud"} <= set(available_hwconfigs())
    edge = load_hardware("edge")
    assert (edge.num_pes, edge.l1_size, edge.l2_size) == (168, 512, 108000)
    assert edge.offchip_bw is None and edge.noc_bw == 81920000
    cloud = load_hardware("cloud")
    assert (cloud.num_pes, cloud.l1_size, cloud.l2_size) == (65536, 4 * 2**20, 24 * 2**20)


def test_gamma_format(tmp_path):
    path = tmp_path / "hw_config.m"
    path.write_text("NumPEs: 168\nL1Size: 512\nL2Size: 108000\nNoC_BW: 81920000")
    hw = load_hardware(str(path))
    assert (hw.num_pes, hw.l1_size, hw.l2_size, hw.noc_bw) == (168, 512, 108000, 81920000)
    assert hw.offchip_bw is None


def test_maestro_format(tmp_path):
    path = tmp_path / "accel.m"
    path.write_text("num_pes: 256\nl1_size_cstr: 100\nl2_size_cstr: 3000\n"
                    "noc_bw_cstr: 1000\noffchip_bw_cstr: 50\nNoC_NumHops: 4\n")
    hw = load_hardware(str(path))
    assert (hw.num_pes, hw.l1_size, hw.l2_size, hw.noc_bw, hw.offchip_bw, hw.noc_hops) == \
        (256, 100, 3000, 1000, 50, 4)


def test_maestro_file_without_num_pes_means_one_pe(tmp_path):
    path = tmp_path / "nopes.m"
    path.write_text("l1_size_cstr: 100\n")
    hw = load_hardware(str(path))
    assert hw.num_pes == 1 and hw.noc_bw is None and hw.noc_bw_value == 2**31 - 1


def test_shipped_key_value_files_match_edge():
    gamma_style = load_hardware("gamma_edge")
    maestro_style = load_hardware("maestro_edge")
    assert gamma_style.num_pes == maestro_style.num_pes == 168


def test_overrides_are_validated():
    hw = load_hardware("edge").replace(num_pes=64, l1_size=1024)
    assert (hw.num_pes, hw.l1_size, hw.l2_size) == (64, 1024, 108000)
    with pytest.raises(GammaInputError, match="num_pes"):
        hw.replace(num_pes=0)


def test_area_model_matches_gamma_worked_example():
    # 168 PEs, L1 512 per PE, L2 108000: 168*282 + 0.688*(168*512 + 108000) um^2
    area = AreaModel().area_um2(168, 512, 108000)
    assert area == pytest.approx(180859.0, abs=1.0)


@pytest.mark.parametrize("text, message", [
    ("NumPEs: many\n", r"bad\.m:1: NumPEs must be a whole number"),
    ("num_pes: -4\n", r"bad\.m:1: num_pes must be positive"),
    ("num_pes 4\n", r"bad\.m:1: expected 'key: value'"),
    ("num_pes: 4\nfoo: 3\n", r"bad\.m:2: unknown MAESTRO hardware key 'foo'"),
    ("L1Size: 512\n", r"bad\.m: missing NumPEs"),
])
def test_bad_key_value_files(tmp_path, text, message):
    path = tmp_path / "bad.m"
    path.write_text(text)
    with pytest.raises(GammaInputError, match=message):
        load_hardware(str(path))


@pytest.mark.parametrize("text, message", [
    ("num_pes: [1, 2\n", r"bad\.yaml:\d+: not valid YAML"),
    ("l1_size: 5\n", "missing key num_pes"),
    ("num_pes: 4\nbogus: 1\n", "unknown key"),
    ("num_pes: 0\n", "num_pes must be a positive integer"),
    ("num_pes: 4\nl2_size: -3\n", "l2_size must be a positive integer"),
    ("- 1\n- 2\n", "expected a mapping"),
])
def test_bad_yaml_files(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(GammaInputError, match=message):
        load_hardware(str(path))


def test_unknown_config_name_lists_shipped():
    with pytest.raises(GammaInputError, match="--hwconfig.*edge"):
        load_hardware("no_such_config")


def test_to_maestro_round_trip(tmp_path):
    hw = Hardware(num_pes=64, l1_size=512, l2_size=4096, noc_bw=32, offchip_bw=16, noc_hops=2)
    path = tmp_path / "hw.m"
    path.write_text(hw.to_maestro())
    back = load_hardware(str(path))
    assert back.replace(name=hw.name) == hw


def test_absurd_hardware_values_are_refused():
    from gamma.hardware import MAX_BUFFER, MAX_PES
    edge = load_hardware("edge")
    assert edge.replace(num_pes=MAX_PES, l1_size=MAX_BUFFER, l2_size=MAX_BUFFER).num_pes == MAX_PES
    with pytest.raises(GammaInputError, match=f"num_pes=99999999999 exceeds the limit {MAX_PES}"):
        edge.replace(num_pes=99999999999)
    for name in ("l1_size", "l2_size"):
        with pytest.raises(GammaInputError, match=f"{name}={MAX_BUFFER + 1} exceeds"):
            edge.replace(**{name: MAX_BUFFER + 1})
    assert load_hardware("cloud").num_pes <= MAX_PES


# ---------------------------------------------------------------------------
# GAMMA's hardware names and folders
# ---------------------------------------------------------------------------

def _gamma_hw_fixture():
    import json
    from pathlib import Path
    path = Path(__file__).parent / "fixtures" / "gamma_constraints.json"
    return json.loads(path.read_text())["hwconfigs"]["data/HWconfigs/hw_config.m"]


def test_gamma_hwconfig_name_without_gamma_folder_is_gammas_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    want = _gamma_hw_fixture()
    for name in ("hw_config.m", "hw_config"):
        hw = load_hardware(name)
        assert (hw.num_pes, hw.l1_size, hw.l2_size, hw.noc_bw) == \
            (want["NumPEs"], want["L1Size"], want["L2Size"], want["NoC_BW"])


def test_gamma_hwconfig_folder_of_the_working_directory_wins(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "HWconfigs"
    folder.mkdir(parents=True)
    (folder / "hw_config.m").write_text("NumPEs: 64\nL1Size: 256\nL2Size: 4096\nNoC_BW: 1000")
    (folder / "small.m").write_text("NumPEs: 8\nL1Size: 64\nL2Size: 512\nNoC_BW: 10")
    (folder / "old").mkdir()
    (folder / "old" / "hw_2021.m").write_text("NumPEs: 168\nL1Size: 5120\nL2Size: 1080000\nNoC_BW: 1")
    monkeypatch.chdir(tmp_path)
    assert load_hardware("hw_config.m").num_pes == 64
    assert load_hardware("hw_config").num_pes == 64
    assert load_hardware("small").num_pes == 8
    assert load_hardware("old/hw_2021.m").l1_size == 5120       # joined to data/HWconfigs, as GAMMA
    (tmp_path / "edge.yaml").write_text("num_pes: 12\n")     # the working directory comes first
    assert load_hardware("edge").num_pes == 12
    with pytest.raises(GammaInputError) as err:
        load_hardware("no_such_config")
    message = str(err.value)
    for name in ("small.m", "hw_config.m", "edge", "cloud", "gamma_edge.m", "maestro_edge.m"):
        assert name in message
    assert "\n" not in message
