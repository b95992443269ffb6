"""Layers (derived sizes, MACs, validation) and model files (load, errors, write)."""
import json
from pathlib import Path

import pytest

from gamma.errors import GammaInputError
from gamma.workload import Layer, load_model, resolve_model, write_model

HEADER = "K,C,Y,X,R,S,T,stride\n"


def write(tmp_path, text, name="m.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def load_error(path) -> str:
    with pytest.raises(GammaInputError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ Layer
def test_conv_sizes_and_macs():
    layer = Layer("CONV", K=64, C=64, Y=58, X=58, R=3, S=3)
    assert (layer.Yo, layer.Xo) == (56, 56)
    assert layer.macs == 64 * 64 * 56 * 56 * 9
    assert layer.describe() == "CONV K64 C64 Y58 X58 R3 S3 /1"


def test_strided_conv_sizes_and_macs():
    stem = Layer("CONV", K=64, C=3, Y=230, X=230, R=7, S=7, stride=2)
    assert (stem.Yo, stem.Xo) == (112, 112)
    assert stem.macs == 64 * 3 * 112 * 112 * 49
    # 1x1 stride-2 downsample: (56 - 1) // 2 + 1 = 28 (floor)
    down = Layer("CONV", K=128, C=64, Y=56, X=56, R=1, S=1, stride=2)
    assert (down.Yo, down.Xo) == (28, 28)
    assert down.macs == 128 * 64 * 28 * 28
    # non-square input, different output rows and columns
    wide = Layer("CONV", K=2, C=3, Y=10, X=20, R=3, S=5, stride=2)
    assert (wide.Yo, wide.Xo) == (4, 8)
    assert wide.macs == 2 * 3 * 4 * 8 * 15
    assert wide.to_gamma_row() == [2, 3, 10, 20, 3, 5, 1, 2]


def test_dsconv_sizes_and_macs():
    dw = Layer("DSCONV", K=1, C=96, Y=114, X=114, R=3, S=3, stride=2)
    assert (dw.Yo, dw.Xo) == (56, 56)
    assert dw.macs == 96 * 56 * 56 * 9
    assert dw.to_gamma_row() == [1, 96, 114, 114, 3, 3, 2, 2]


def test_gemm_decodes_m_n_k():
    gemm = Layer.from_gamma_row([512, 768, 3072, 1, 1, 1, 3])
    assert (gemm.type, gemm.K, gemm.C, gemm.Y, gemm.X, gemm.R, gemm.S) == ("GEMM", 768, 3072, 512, 1, 1, 1)
    assert (gemm.Yo, gemm.Xo) == (512, 1)
    assert gemm.macs == 512 * 768 * 3072
    assert gemm.describe() == "GEMM M512 N768 K3072"
    assert gemm.to_gamma_row() == [512, 768, 3072, 1, 1, 1, 3, 1]
    # the ignored size columns may be 0, as in GAMMA's headers
    assert Layer.from_gamma_row([64, 512, 512, 0, 0, 0, 3]).macs == 64 * 512 * 512


def test_fc_decodes_o_i():
    fc = Layer.from_gamma_row([1000, 2048, 1, 1, 1, 1, 0])
    assert (fc.type, fc.K, fc.C, fc.Y, fc.X) == ("FC", 1000, 2048, 1, 1)
    assert fc.macs == 1000 * 2048
    assert fc.describe() == "FC O1000 I2048"
    assert fc.to_gamma_row() == [1000, 2048, 1, 1, 1, 1, 0, 1]


def test_batch_and_groups_scale_macs():
    base = Layer("CONV", K=8, C=4, Y=6, X=6, R=3, S=3)
    assert base.replace(N=4).macs == 4 * base.macs
    ng = Layer("NGCONV", K=8, C=4, Y=6, X=6, R=3, S=3, G=2)
    assert ng.macs == 2 * base.macs
    assert ng.dims == {"G": 2, "K": 8, "C": 4, "Y": 6, "X": 6, "R": 3, "S": 3}
    with pytest.raises(GammaInputError):
        ng.to_gamma_row()


def test_shape_key_ignores_name():
    a = Layer("CONV", K=8, C=4, Y=6, X=6, R=3, S=3, name="a")
    assert a.shape_key == a.replace(name="b").shape_key
    assert a.shape_key != a.replace(stride=2).shape_key


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(type="POOL"), "unknown layer type 'POOL'"),
    (dict(K=0), "layer K must be a positive integer, got 0"),
    (dict(C=-3), "layer C must be a positive integer, got -3"),
    (dict(Y=8.0), "layer Y must be a positive integer, got 8.0"),
    (dict(stride=0), "layer stride must be a positive integer"),
    (dict(X=True), "layer X must be a positive integer, got True"),
    (dict(R=9), "filter 9x3 is larger than the input 8x8"),
])
def test_layer_validation(kwargs, fragment):
    fields = dict(type="CONV", K=4, C=4, Y=8, X=8, R=3, S=3)
    fields.update(kwargs)
    with pytest.raises(GammaInputError, match=fragment.replace("(", r"\(")) as info:
        Layer(**fields)
    assert "\n" not in str(info.value)


def test_replace_validates_again():
    layer = Layer("CONV", K=4, C=4, Y=8, X=8, R=3, S=3)
    with pytest.raises(GammaInputError):
        layer.replace(K=0)


# ------------------------------------------------------------- model files
def test_load_legacy_seven_columns_and_blank_lines(tmp_path):
    path = write(tmp_path, "K,C,Y,X,R,S,T\n64,32,56,56,3,3,1\n\n128,64,56,56,3,3,1\n\n")
    layers = load_model(path)
    assert [(layer.K, layer.stride) for layer in layers] == [(64, 1), (128, 1)]
    assert [layer.name for layer in layers] == ["L1", "L2"]


def test_load_gamma_gemm_header(tmp_path):
    path = write(tmp_path, "M,N,K,0,0,0,T\n512,64,512,1,1,1,3\n")
    (layer,) = load_model(path)
    assert (layer.type, layer.Y, layer.K, layer.C) == ("GEMM", 512, 64, 512)


def test_load_stride_column(tmp_path):
    path = write(tmp_path, HEADER + "128,64,58,58,3,3,1,2\n1,96,114,114,3,3,2,2\n")
    conv, dw = load_model(path)
    assert (conv.stride, conv.Yo, dw.type, dw.stride, dw.Yo) == (2, 28, "DSCONV", 2, 56)


@pytest.mark.parametrize("body, line, fragment", [
    ("64,32,56,56,3,3\n", 2, "expected 8 comma-separated integers, got 6"),
    ("64,32,56,56,3,3,1,1,1\n", 2, "expected 8 comma-separated integers, got 9"),
    ("64,32,56,56,3,3,1,1\n32,32,16,16.1,1,1,1,1\n", 3, "column X must be a whole number, got '16.1'"),
    ("64,32,56,x,3,3,1,1\n", 2, "column X must be a whole number, got 'x'"),
    ("64,32,56,56,3,3,CONV,1\n", 2, "column T must be a whole number (the layer type code: 0 FC, 1 CONV"),
    ("64,32,56,56,3,3,1,two\n", 2, "column stride must be a whole number, got 'two'"),
    ("64,32,56,56,3,3,7,1\n", 2, "layer type code T=7 is unknown"),
    ("64,32,56,56,3,3,-1,1\n", 2, "layer type code T=-1 is unknown"),
    ("64,32,56,56,3,3,1,1\n8,32,56,56,3,3,2,1\n", 3, "a depthwise (T=2) row must have K=1"),
    ("0,32,56,56,3,3,1,1\n", 2, "layer K must be a positive integer, got 0"),
    ("64,-32,56,56,3,3,1,1\n", 2, "layer C must be a positive integer, got -32"),
    ("64,32,56,56,3,3,1,0\n", 2, "layer stride must be a positive integer, got 0"),
    ("64,32,2,2,3,3,1,1\n", 2, "filter 3x3 is larger than the input 2x2"),
    ("0,64,512,1,1,1,3,1\n", 2, "GEMM M must be a positive integer, got 0"),
    ("64,0,1,1,1,1,0,1\n", 2, "FC I must be a positive integer, got 0"),
    ("512,768,3072,1,1,1,3,4\n", 2, "a GEMM row cannot have a stride (got 4)"),
    ("64,32,1_000,56,3,3,1,1\n", 2, "column Y must be a whole number, got '1_000'"),
    ("64,32,+56,56,3,3,1,1\n", 2, "column Y must be a whole number, got '+56'"),
])
def test_load_errors_name_file_and_line(tmp_path, body, line, fragment):
    path = write(tmp_path, HEADER + body)
    message = load_error(path)
    assert message.startswith(f"{path}:{line}: ")
    assert fragment in message


def test_load_error_in_seven_column_file(tmp_path):
    path = write(tmp_path, "K,C,Y,X,R,S,T\n32,32,16,16.1,1,1\n")
    message = load_error(path)
    assert message.startswith(f"{path}:2: expected 7 comma-separated integers, got 6")


def test_numeric_first_line_is_not_taken_as_header(tmp_path):
    path = write(tmp_path, "64,32,56,56,3,3,1,1\n128,64,56,56,3,3,1,2\n")
    assert load_error(path).startswith(f"{path}:1: the first line must be the header")


def test_bad_header(tmp_path):
    path = write(tmp_path, "K,C,Y,X,R,S,T,pad\n64,32,56,56,3,3,1,1\n")
    assert load_error(path).startswith(f"{path}:1: unknown column 'pad' in the header")
    path = write(tmp_path, "K,C,Y\n1,2,3\n", name="short.csv")
    assert load_error(path).startswith(f"{path}:1: missing column 'X' in the header K,C,Y;")
    path = write(tmp_path, "K,C,Y,X,R,S,T,C\n1,2,3,3,1,1,1,2\n", name="twice.csv")
    assert load_error(path).startswith(f"{path}:1: column 'C' appears twice")
    path = write(tmp_path, "M,N,K,Q,0,0,T\n1,2,3,3,1,1,3\n", name="gemm.csv")
    assert "unknown column 'Q'" in load_error(path)


def test_columns_are_read_by_name(tmp_path):
    """A header in another order is read by its names, not by position."""
    reordered = write(tmp_path, "C,K,X,Y,S,R,stride,T\n3,64,230,226,7,5,2,1\n", name="reordered.csv")
    (layer,) = load_model(str(reordered))
    assert (layer.type, layer.K, layer.C, layer.Y, layer.X, layer.R, layer.S, layer.stride) == \
        ("CONV", 64, 3, 226, 230, 5, 7, 2)
    gemm = write(tmp_path, "T,K,N,M\n3,768,512,64\n", name="gemm.csv")
    (layer,) = load_model(str(gemm))
    assert (layer.type, layer.Y, layer.K, layer.C) == ("GEMM", 64, 512, 768)   # M, N, K


GAMMA_MODELS = json.loads((Path(__file__).parent / "fixtures" / "gamma_constraints.json")
                          .read_text())["models"]


@pytest.mark.parametrize("name", sorted(GAMMA_MODELS))
def test_gamma_model_headers_load(tmp_path, name):
    """GAMMA's own model files (header and first row) load as GAMMA reads them by position."""
    header, row = GAMMA_MODELS[name]
    path = write(tmp_path, f"{header}\n{row}\n", name=Path(name).name)
    if name.endswith("/example.csv"):      # GAMMA's example row has six cells, one of them 16.1
        assert load_error(path).startswith(f"{path}:2: expected 7 comma-separated integers, got 6")
        return
    (layer,) = load_model(str(path))
    values = [int(v) for v in row.split(",")]
    assert layer.to_gamma_row()[:7] == Layer.from_gamma_row(values).to_gamma_row()[:7]
    assert layer.macs > 0


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    message = load_error(path)
    assert message.startswith(f"{path}: ") and "empty" in message


def test_header_only(tmp_path):
    path = write(tmp_path, HEADER + "\n")
    message = load_error(path)
    assert message.startswith(f"{path}: ") and "no layers" in message


def test_unknown_model_name():
    message = load_error("no_such_model")
    assert "unknown model 'no_such_model'" in message
    assert "resnet18" in message  # lists the shipped models
    with pytest.raises(GammaInputError):
        resolve_model("no_such_model")


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.csv"
    message = load_error(missing)
    assert str(missing) in message and "does not exist" in message
    assert "does not exist" in load_error(str(tmp_path / "sub" / "x"))


def test_zoo_name_and_path_give_the_same_layers():
    path = resolve_model("resnet18")
    assert path.name == "resnet18.csv"
    assert load_model("resnet18") == load_model(path) == load_model(str(path))


# -------------------------------------------------------------- round trip
def test_write_then_load_round_trip(tmp_path):
    layers = [
        Layer("CONV", K=64, C=3, Y=230, X=230, R=7, S=7, stride=2),
        Layer("CONV", K=8, C=3, Y=10, X=20, R=3, S=5),
        Layer("DSCONV", K=1, C=96, Y=114, X=114, R=3, S=3, stride=2),
        Layer("GEMM", K=768, C=3072, Y=512, X=1, R=1, S=1),
        Layer("FC", K=1000, C=2048, Y=1, X=1, R=1, S=1),
    ]
    path = tmp_path / "out.csv"
    write_model(path, layers)
    assert path.read_text().splitlines()[0] == "K,C,Y,X,R,S,T,stride"
    loaded = load_model(path)
    assert [layer.shape_key for layer in loaded] == [layer.shape_key for layer in layers]
    assert [layer.macs for layer in loaded] == [layer.macs for layer in layers]
    # and once more: writing what was read gives the same file
    again = tmp_path / "again.csv"
    write_model(again, loaded)
    assert again.read_text() == path.read_text()


def test_round_trip_of_every_zoo_model(tmp_path):
    from gamma.workload import available_models
    for name in available_models():
        layers = load_model(name)
        path = tmp_path / f"{name}.csv"
        write_model(path, layers)
        assert [layer.shape_key for layer in load_model(path)] == [layer.shape_key for layer in layers]


# ------------------------------------------------------------------ size limits
def test_absurd_sizes_name_file_line_and_limit(tmp_path):
    from gamma.workload import MAX_DIM
    path = write(tmp_path, "K,C,Y,X,R,S,T\n64,32,56,56,3,3,1\n99999999999,99999,99999,99999,3,3,1\n")
    message = load_error(path)
    assert message.startswith(f"{path}:3: layer K=99999999999 exceeds the limit {MAX_DIM}")


def test_mac_count_limit():
    from gamma.workload import MAX_DIM, MAX_MACS
    Layer("CONV", K=MAX_DIM, C=MAX_DIM, Y=1024, X=256, R=1, S=1)     # exactly 2**50 MACs: accepted
    with pytest.raises(GammaInputError, match=r"MACs, above the limit") as info:
        Layer("CONV", K=MAX_DIM, C=MAX_DIM, Y=MAX_DIM, X=MAX_DIM, R=3, S=3)
    assert f"{MAX_MACS:.3e}" in str(info.value)
    with pytest.raises(GammaInputError, match=f"layer Y={MAX_DIM + 1} exceeds"):
        Layer("CONV", K=1, C=1, Y=MAX_DIM + 1, X=1, R=1, S=1)
    Layer("GEMM", K=MAX_DIM, C=MAX_DIM, Y=1, X=1, R=1, S=1)   # largest single dimension


def test_every_zoo_model_is_within_the_limits():
    from gamma.workload import MAX_DIM, MAX_MACS, MODEL_DIR
    for path in sorted(MODEL_DIR.glob("*.csv")):
        for layer in load_model(path):
            assert max(layer.dims.values()) <= MAX_DIM and layer.macs <= MAX_MACS
