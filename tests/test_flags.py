"""Flags as GAMMA's scripts write them: no abbreviations, GAMMA's spellings, ranges checked."""
import pytest
from run_folders import run_folder

from gamma.cli import main
from gamma.errors import GammaInputError
from gamma.flags import build_search_parser, explicit_flags

FAST = ["--num_pop", "6", "--epochs", "2", "--seed", "1", "--log_level", "0", "--no_plots", "--jobs", "1"]


def test_an_abbreviated_flag_is_refused(capsys):
    assert main(["--epoch", "5"] + FAST) == 2
    assert "unrecognized arguments: --epoch" in capsys.readouterr().err


def test_slevel_sets_both_bounds_as_gammas_other_scripts_expect():
    args = build_search_parser().parse_args(["--slevel", "1"])
    assert (args.slevel_min, args.slevel_max) == (1, 1)
    assert not hasattr(args, "slevel")          # run.yaml records the two bounds only
    assert explicit_flags(["--slevel", "3"]) == {"slevel_min": 3, "slevel_max": 3}
    with pytest.raises(GammaInputError, match="--slevel must be at least 1"):
        build_search_parser().parse_args(["--slevel", "0"])


def test_slevel_runs(tmp_path):
    assert main(["--model", "vgg16", "--singlelayer", "1", "--slevel", "1",
                 "--outdir", str(tmp_path / "o")] + FAST) == 0
    assert "slevel_min: 1" in (run_folder(tmp_path / "o") / "run.yaml").read_text()


@pytest.mark.parametrize("flag", ["--num_layer", "--singlelayer"])
def test_a_layer_selection_beyond_the_model_is_refused(capsys, tmp_path, flag):
    assert main(["--model", "resnet18", flag, "99", "--outdir", str(tmp_path / "o")] + FAST) == 2
    err = capsys.readouterr().err
    assert f"{flag} 99: the model has only 21 layers" in err
