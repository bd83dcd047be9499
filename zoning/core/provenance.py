"""Where an answer comes from: the one provenance record every output carries.

:func:`provenance` gives, as ordered ``key: value`` text, the pack (name, title, stated
version and release date, content hash from :mod:`zoning.core.version`), the manifest's
hash, the rules version, the as-of date the rules were read on, the tool's version and the
input's hash (a file, a folder of files, or a typed-in point). The query's JSON and text,
the check's CSV (a ``.provenance.json`` beside it), workbook, GeoPackage (a ``provenance``
table) and HTML report, the map and the review report all take it from here, so the same
check on the same pack and inputs says the same thing, and two runs that differ can say
which of these differed (:func:`compare_provenance`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoning.core.manifest import Pack, file_sha256
from zoning.core.version import pack_version

if TYPE_CHECKING:
    from zoning.core.context import PackContext

__all__ = [
    "PROVENANCE_KEYS",
    "PROVENANCE_LABELS",
    "compare_provenance",
    "file_sha256",
    "provenance",
    "provenance_lines",
    "read_provenance_file",
    "tool_version",
    "write_provenance_file",
]

#: Keys of the record, in order, with their zh/en labels.
PROVENANCE_LABELS: dict[str, tuple[str, str]] = {
    "pack": ("图层包", "pack"),
    "pack_title": ("图层包名称", "pack title"),
    "pack_version": ("图层包版本", "pack version"),
    "pack_released": ("图层包发布日期", "pack released"),
    "pack_sha256": ("图层包内容哈希(SHA-256)", "pack content SHA-256"),
    "manifest_sha256": ("清单哈希(SHA-256)", "manifest SHA-256"),
    "rules_version": ("规则版本", "rules version"),
    "as_of": ("规则评价日期", "rules read as of"),
    "tool_version": ("软件版本", "tool version"),
    "input": ("输入", "input"),
    "input_sha256": ("输入哈希(SHA-256)", "input SHA-256"),
}
PROVENANCE_KEYS: tuple[str, ...] = tuple(PROVENANCE_LABELS)

#: The suffix of the record written beside an output file (``sites_check.csv.provenance.json``).
SIDECAR_SUFFIX = ".provenance.json"


@lru_cache(maxsize=1)
def tool_version() -> str:
    """``zoning X.Y.Z`` as installed (``unknown`` from a source tree never installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"zoning {version('zoning')}"
    except PackageNotFoundError:
        return "zoning unknown (not installed)"


def provenance(
    context: PackContext | Pack,
    *,
    on_date: dt.date | None = None,
    input_file: str | Path | None = None,
    input_text: str | None = None,
) -> dict[str, str]:
    """Where an answer comes from, as ordered ``key: value`` text (:data:`PROVENANCE_KEYS`).

    ``pack_version`` is the manifest's ``version`` (or ``built DATE`` for a pack that states
    none), ``pack_sha256`` the content hash of layers, rules and manifest,
    ``rules_version`` the first 16 hex digits of the rules catalogue's hash with the count
    of files, ``as_of`` the date the rules are read on (default today), ``input`` and
    ``input_sha256`` the input file (or folder), or ``input_text`` for a typed-in point.
    """
    if isinstance(context, Pack):
        pack, pv = context, pack_version(context)
    else:  # a pack context (or a check's, which is one): the version of the pack it read, taken once
        pack, pv = context.pack, context.version
    built = pack.meta.get("built")
    out = {
        "pack": pack.name,
        "pack_title": pack.title,
        "pack_version": pv.version or (f"built {built}" if built else "—"),
        "pack_released": pv.released.isoformat() if pv.released else "—",
        "pack_sha256": pv.content_sha256,
        "manifest_sha256": pv.manifest_sha256,
        "rules_version": f"{pv.rules_sha256[:16]} ({pv.rule_files} files)",
        "as_of": (on_date or dt.date.today()).isoformat(),
        "tool_version": tool_version(),
    }
    if input_file is not None:
        out["input"] = str(input_file)
        out["input_sha256"] = file_sha256(input_file)
    elif input_text is not None:
        out["input"] = input_text
        out["input_sha256"] = hashlib.sha256(input_text.encode("utf-8")).hexdigest()
    return out


def provenance_lines(prov: dict[str, str], lang: str = "zh") -> list[str]:
    """The record as ``label: value`` lines in the answer's language."""
    i = 0 if lang == "zh" else 1
    sep = ": "
    return [f"{PROVENANCE_LABELS.get(k, (k, k))[i]}{sep}{v}" for k, v in prov.items()]


def write_provenance_file(output: str | Path, prov: dict[str, str], extra: dict[str, Any] | None = None) -> Path:
    """Write ``prov`` (and ``extra``) as JSON beside ``output``; returns the path written."""
    target = Path(str(output) + SIDECAR_SUFFIX)
    doc = {"provenance": prov, **(extra or {})}
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def read_provenance_file(output: str | Path) -> dict[str, str] | None:
    """The record written beside ``output`` (None if there is none or it is unreadable)."""
    target = Path(str(output) + SIDECAR_SUFFIX)
    try:
        doc = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    prov = doc.get("provenance") if isinstance(doc, dict) else None
    return {str(k): str(v) for k, v in prov.items()} if isinstance(prov, dict) else None


def compare_provenance(before: dict[str, str], after: dict[str, str], lang: str = "zh") -> list[str]:
    """What differs between two records, one line per key (empty: the same pack, rules,
    date, tool and input)."""
    i = 0 if lang == "zh" else 1
    keys = ("pack_version", "pack_sha256", "rules_version", "as_of", "tool_version", "input_sha256")
    return [f"{PROVENANCE_LABELS[k][i]}: {before.get(k, '—')} → {after.get(k, '—')}"
            for k in keys if before.get(k) != after.get(k)]
