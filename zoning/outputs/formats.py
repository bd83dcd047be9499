"""The output formats a check is asked for, read in one place.

``zoning check --format`` and ``--pieces-format``, the suffix of each ``-o FILE`` and the
``format`` field of the service's upload form (``POST /api/v1/checks``) read their formats
here, so that all accept the same spellings (comma-separated, any case, spaces around a
name, a name given twice counted once) and refuse a bad one in the same sentence, which
names the bad values and the allowed ones. Each edge passes its own allowed formats: the
command line's ``--format`` also writes the review reports (docx, pdf), the service only
the tables (:data:`zoning.outputs.reports.FORMATS`).

The errors are :class:`~zoning.core.errors.UsageError`: the command line turns them into
its usage error (exit code 2, ``zoning.cli.options.checked``), the service into ``400``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["files_missing", "parse_formats", "suffix_format"]


def _expected(allowed: tuple[str, ...]) -> str:
    return f"expected a comma-separated list of {', '.join(allowed)}"


def parse_formats(value: str | Iterable[str] | None, allowed: Iterable[str], *, what: str) -> list[str]:
    """The formats named in ``value``, lower case, each once, in the order given.

    Parameters
    ----------
    value
        ``"csv, XLSX"``, or a list of such strings (``["csv", "xlsx,gpkg"]``).
    allowed
        The formats this edge writes, in the order the message lists them.
    what
        What a format is called in the message: ``"output format"``, ``"pieces format"``.

    Raises
    ------
    UsageError
        No format at all, or one not in ``allowed``: one sentence naming the bad values (as
        given) and the allowed ones, e.g. ``output formats 'pdfx', 'odt': expected a
        comma-separated list of csv, xlsx, gpkg, html``.

    Examples
    --------
    >>> parse_formats(" CSV,xlsx,csv ", ("csv", "xlsx", "gpkg"), what="output format")
    ['csv', 'xlsx']
    """
    from zoning.core.errors import UsageError

    options = tuple(allowed)
    items = [value] if isinstance(value, str) else list(value or ())
    given = list(dict.fromkeys(name.strip() for item in items for name in str(item).split(",") if name.strip()))
    if not given:
        raise UsageError(f"no {what} given: {_expected(options)}")
    bad = [name for name in given if name.lower() not in options]
    if bad:
        named = ", ".join(repr(name) for name in bad)
        raise UsageError(f"{what}{'s' if len(bad) > 1 else ''} {named}: {_expected(options)}")
    return list(dict.fromkeys(name.lower() for name in given))


def suffix_format(path: str | Path, allowed: Iterable[str]) -> str:
    """The format an output file's suffix names (``核查.XLSX`` -> ``xlsx``), one of ``allowed``.

    Raises
    ------
    UsageError
        Another suffix, or none: ``out.txt: the suffix must be one of .csv, .xlsx, ...``
    """
    from zoning.core.errors import UsageError

    options = tuple(allowed)
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in options:
        raise UsageError(f"{path}: the suffix must be one of .{', .'.join(options)}")
    return suffix


def files_missing(missing: Iterable[str]) -> None:
    """Refuse formats asked for with ``--format`` that have no ``-o`` file and no ``--out``
    folder to go to (the check's tables and the review reports say it alike).

    Raises
    ------
    UsageError
        ``--format xlsx,pdf has no -o file; give --out DIR or -o FILE.xlsx``.
    """
    from zoning.core.errors import UsageError

    names = list(missing)
    if names:
        raise UsageError(f"--format {','.join(names)} has no -o file; give --out DIR or -o FILE.{names[0]}")
