"""The one check of an output folder (options.writable_dir): ``check --out`` and the folder of
``-o`` are refused before any work starts when they are (or lie under) a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoning.cli.main import main_group

SITES = Path(__file__).resolve().parent.parent / "examples" / "sites_demo.csv"


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the check starts: every refusal here comes before the pack is read."""
    import zoning.check

    def refuse(*a, **k):
        raise AssertionError("the check started before its options were refused")

    monkeypatch.setattr(zoning.check, "build_context", refuse)


@pytest.mark.parametrize(("option", "where", "sentence"), [
    ("--out", "f", "--out {tmp}/f is a file; expected a folder (it is created if missing)"),
    ("--out", "f/sub", "--out {tmp}/f/sub: {tmp}/f is a file, not a folder"),
    ("-o", "f/a.csv", "-o {tmp}/f/a.csv: {tmp}/f is a file, not a folder"),
])
def test_an_output_folder_that_is_a_file(runner, tmp_path, no_work, option, where, sentence):
    """One check of an output folder (options.writable_dir): --out and the folder of -o."""
    (tmp_path / "f").write_text("x", encoding="utf-8")
    result = runner.invoke(main_group, ["check", str(SITES), option, str(tmp_path / where)])
    assert result.exit_code == 2, result.output
    assert "Error: " + sentence.format(tmp=tmp_path) in " ".join(result.output.split())


def test_derive_and_check_refuse_an_out_file_in_the_same_sentence(runner, tmp_path, no_work):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    (tmp_path / "c.toml").write_text("[grid]\n", encoding="utf-8")
    said = []
    for args in (["check", str(SITES)], ["derive", str(tmp_path / "c.toml")]):
        result = runner.invoke(main_group, [*args, "--out", str(tmp_path / "f")])
        assert result.exit_code == 2, result.output
        said.append(" ".join(result.output.split()).split("Error: ", 1)[1])
    assert said[0] == said[1] == f"--out {tmp_path / 'f'} is a file; expected a folder (it is created if missing)"


@pytest.mark.parametrize("args", [["serve"], ["users", "add", "wang", "--role", "checker"], ["users", "list"],
                                  ["audit", "list"]])
def test_the_service_data_folder_is_refused_when_it_is_a_file(runner, tmp_path, args):
    """``--data`` of zoning serve, users and audit is the service's folder: a file there is
    refused before any work with the sentence ``check --out`` gives (exit 2). The service
    failed later with a bare 'File exists' (exit 1)."""
    (tmp_path / "f").write_text("x", encoding="utf-8")
    result = runner.invoke(main_group, [*args, "--data", str(tmp_path / "f")])
    assert result.exit_code == 2, result.output
    assert f"--data {tmp_path}/f is a file; expected a folder (it is created if missing)" in " ".join(result.output.split())
    assert (tmp_path / "f").read_text(encoding="utf-8") == "x"
