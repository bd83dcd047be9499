"""The one parser of output format lists (zoning.outputs.formats): what it accepts and the
sentence it refuses in; the command line and the service both read their lists with it."""

from __future__ import annotations

import pytest

from zoning.core.errors import UsageError
from zoning.outputs.formats import parse_formats, suffix_format

TABLES = ("csv", "xlsx", "gpkg", "html")


@pytest.mark.parametrize(("value", "expected"), [
    ("csv", ["csv"]),
    ("csv,xlsx", ["csv", "xlsx"]),
    (" CSV , Xlsx ,", ["csv", "xlsx"]),  # any case, spaces around, a trailing comma
    ("xlsx,csv,XLSX,csv", ["xlsx", "csv"]),  # each once, in the order first given
    (["csv", "gpkg,html"], ["csv", "gpkg", "html"]),  # a list of (comma-separated) items
    (("html",), ["html"]),
])
def test_a_list_is_read_alike_however_it_is_spelt(value, expected):
    assert parse_formats(value, TABLES, what="output format") == expected


@pytest.mark.parametrize("value", ["", ",", " , ", [], None, ["", " "]])
def test_no_format_is_refused(value):
    with pytest.raises(UsageError) as exc:
        parse_formats(value, TABLES, what="output format")
    assert str(exc.value) == "no output format given: expected a comma-separated list of csv, xlsx, gpkg, html"


def test_the_sentence_names_the_bad_values_as_given_and_the_allowed_ones():
    with pytest.raises(UsageError) as exc:
        parse_formats("csv,PDFX", TABLES, what="output format")
    assert str(exc.value) == "output format 'PDFX': expected a comma-separated list of csv, xlsx, gpkg, html"
    with pytest.raises(UsageError) as exc:
        parse_formats("odt, pdfx,odt,csv", TABLES, what="output format")
    assert str(exc.value) == ("output formats 'odt', 'pdfx': expected a comma-separated list of "
                              "csv, xlsx, gpkg, html")
    with pytest.raises(UsageError) as exc:
        parse_formats("kml", ("gpkg", "jzd"), what="pieces format")
    assert str(exc.value) == "pieces format 'kml': expected a comma-separated list of gpkg, jzd"


def test_a_suffix_names_its_format():
    assert suffix_format("核查.XLSX", TABLES) == "xlsx"
    assert suffix_format("a/b.c.csv", TABLES) == "csv"
    for bad in ("out.txt", "out"):
        with pytest.raises(UsageError) as exc:
            suffix_format(bad, (*TABLES, "docx", "pdf"))
        assert str(exc.value) == f"{bad}: the suffix must be one of .csv, .xlsx, .gpkg, .html, .docx, .pdf"


@pytest.mark.parametrize(("args", "missing"), [
    (["-o", "{tmp}/r.csv", "--format", "csv,xlsx"], "xlsx"),                         # a table without its file
    (["-o", "{tmp}/r.pdf", "--format", "pdf,docx", "--report-volume"], "docx"),     # a review volume without its file
])
def test_a_format_without_a_file_is_refused_in_one_sentence(runner, tmp_path, args, missing):
    """--format names a format that neither -o nor --out gives a file to: the check's tables
    and the review volume refuse it in the same sentence (files_missing), before any work."""
    from pathlib import Path

    from zoning.cli.main import main_group

    sites = Path(__file__).resolve().parent.parent / "examples" / "sites_demo.csv"
    result = runner.invoke(main_group, ["check", str(sites), *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2, result.output
    assert f"--format {missing} has no -o file; give --out DIR or -o FILE.{missing}" in result.output
    assert not list(tmp_path.iterdir())
