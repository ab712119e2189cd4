"""`tinydet tune` with bad input: one line on stderr, exit status 2, no traceback, nothing trained."""

from __future__ import annotations

import pytest
import yaml

from tinydet.cli import main


@pytest.fixture
def run_cli(tune_data, tmp_path, capsys):
    def run(*extra):
        code = main(["tune", "--data", str(tune_data), "--out", str(tmp_path / "out"), "--trials", "1",
                     "--epochs", "1", "--imgsz", "64", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert not (tmp_path / "out" / "trials").exists()
        return err[0]

    return run


def test_unknown_metric(run_cli):
    assert run_cli("--metric", "APS").startswith("tinydet tune: error: unknown --metric 'APS' (did you mean APs?)")


def test_malformed_space_names_file_and_key(run_cli, tmp_path):
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"parameters": {"box": {"type": "float", "low": 1, "high": 2},
                                                    "mosaic": {"type": "float", "low": 0, "high": 2}}}))
    line = run_cli("--space", str(space))
    assert line.startswith(f"tinydet tune: error: {space}: parameter 'mosaic': value 2.0 is not allowed")


def test_unreachable_database_names_the_url_without_its_password(run_cli):
    line = run_cli("--storage", "postgresql://tuner:s3cret@127.0.0.1:1/studies")
    assert line.startswith("tinydet tune: error: cannot open the study storage "
                           "postgresql+psycopg2://tuner:***@127.0.0.1:1/studies: ")
    assert "s3cret" not in line and "Connection refused" in line


def test_bad_storage_url_and_options(run_cli, tmp_path):
    assert "cannot open the study storage nosuchdb://x" in run_cli("--storage", "nosuchdb://x")
    assert "--pruner must be one of median, none" in run_cli("--pruner", "hyperband")
    assert "--grace-period longer than it" in run_cli("--heartbeat-interval", "10", "--grace-period", "5")
    assert "'mosaik' is not an ultralytics training argument (did you mean mosaic" in run_cli("--set", "mosaik=0.5")
    assert "recipe file not found" in run_cli("--recipe-file", str(tmp_path / "nope.yaml"))


def test_missing_data(tmp_path, capsys):
    assert main(["tune", "--data", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinydet tune: error:") and "none.yaml" in err[0]


def test_a_bad_label_names_its_line_and_skip_bad_reaches_every_trial(tune_data, tmp_path, capsys):
    """Without --skip-bad the study stops at the bad line before it starts; with it, every trial's plan skips it."""
    import shutil

    from tinydet.cli import build_parser
    from tinydet.cli.commands.tune import options_from_args

    data = tmp_path / "data"
    shutil.copytree(tune_data.parent, data)
    label = sorted((data / "labels" / "train").glob("*.txt"))[0]
    label.write_text(label.read_text() + "9 0.5 0.5 0.1 0.1\n")
    argv = ["tune", "--data", str(data / "data.yaml"), "--out", str(tmp_path / "out"), "--trials", "1",
            "--epochs", "1", "--imgsz", "64"]
    assert main(argv) == 2
    assert f"{label.name}:" in capsys.readouterr().err and not (tmp_path / "out").exists()
    assert options_from_args(build_parser().parse_args([*argv, "--skip-bad"])).plan.skip_bad is True
