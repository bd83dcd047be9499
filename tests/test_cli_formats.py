"""``zoning check``'s format lists (--format, --pieces-format, the suffix of -o), read by the one
parser the service's upload form also uses (zoning.outputs.formats), before any work starts, in
one sentence."""

from __future__ import annotations

from pathlib import Path

from zoning.cli.main import main_group

SITES = Path(__file__).resolve().parent.parent / "examples" / "sites_demo.csv"
ALL = "csv, xlsx, gpkg, html, docx, pdf"


def _said(result) -> str:
    return " ".join(result.output.split())


def _no_work(monkeypatch):
    """Fail the test if the check starts: every refusal here comes before the pack is read."""
    import zoning.check

    def refuse(*a, **k):
        raise AssertionError("the check started before its options were refused")

    monkeypatch.setattr(zoning.check, "build_context", refuse)


def test_an_empty_format_list_is_refused_as_the_service_refuses_it(runner, tmp_path, monkeypatch):
    """--format , was taken for the default csv,xlsx; --pieces-format and the service's form refused it."""
    _no_work(monkeypatch)
    for value in (",", "", " , "):
        result = runner.invoke(main_group, ["check", str(SITES), "--out", str(tmp_path), "--format", value])
        assert result.exit_code == 2, result.output
        assert f"no output format given: expected a comma-separated list of {ALL}" in _said(result)
    assert not any(tmp_path.iterdir())


def test_a_bad_format_is_named_as_given_with_the_allowed_ones(runner, tmp_path, monkeypatch):
    _no_work(monkeypatch)
    result = runner.invoke(main_group, ["check", str(SITES), "--out", str(tmp_path), "--format", "CSV,pdfx,ODT,pdfx"])
    assert result.exit_code == 2
    assert f"Invalid value for '--format': output formats 'pdfx', 'ODT': expected a comma-separated list of {ALL}" \
        in _said(result)


def test_a_format_list_in_any_case_and_with_repeats(runner, tmp_path):
    result = runner.invoke(main_group, ["check", str(SITES), "--out", str(tmp_path), "--format", " CSV , csv,Csv ",
                                        "--no-progress"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites_demo_check.csv", "sites_demo_check.csv.provenance.json"]


def test_an_o_suffix_is_checked_before_the_work_and_names_every_format(runner, tmp_path, monkeypatch):
    """-o out.txt was refused after the pack had been read, naming .csv .xlsx .gpkg .html only,
    though .docx and .pdf (a review volume) are accepted."""
    _no_work(monkeypatch)
    result = runner.invoke(main_group, ["check", str(SITES), "-o", str(tmp_path / "a.csv"), "-o",
                                        str(tmp_path / "out.txt")])
    assert result.exit_code == 2, result.output
    assert (f"{tmp_path / 'out.txt'}: the suffix must be one of .csv, .xlsx, .gpkg, .html, .docx, .pdf"
            in _said(result))


def test_pieces_formats_are_read_by_the_same_parser(runner, tmp_path, monkeypatch):
    _no_work(monkeypatch)
    args = ["check", str(SITES), "--out", str(tmp_path), "--pieces", "--pieces-format"]
    result = runner.invoke(main_group, [*args, "GPKG,kml"])
    assert result.exit_code == 2
    assert ("pieces format 'kml': expected a comma-separated list of gpkg, geojson, shp, dxf, jzd"
            in _said(result))
    result = runner.invoke(main_group, [*args, ","])
    assert result.exit_code == 2 and "no pieces format given" in _said(result)
