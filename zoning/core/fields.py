"""Recognise the fields of planners' files and normalise their values (pure functions).

Bureau layers and project tables name the same thing many ways (``XZQDM``, ``行政区代码``,
``县区``...) and write values as names or codes (``泽州县``, ``泽州``, ``140525``).
:func:`map_fields` finds each target field, :func:`normalise_county` and
:func:`normalise_zone_class` bring values to the pack's vocabulary.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from zoning.core import vocab
from zoning.core.errors import InputFileError
from zoning.core.vocab import ZONE_CLASSES

if TYPE_CHECKING:
    import geopandas as gpd

#: Target field -> header spellings recognised (compared case-insensitively, without
#: spaces, brackets or underscores).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "county": ("county", "adcode", "xzqdm", "xzqmc", "行政区代码", "行政区划代码", "行政区名称",
               "行政区", "县", "区县", "县区", "县市区", "所在县", "所属县", "所在区县", "县级行政区"),
    "zone_class": ("zone_class", "class", "类别", "分区", "分区类别", "级别", "区域类别", "保护区级别",
                   "管控级别", "管控分级", "保护级别", "lb", "dj", "fq"),
    "name": ("name", "名称", "区域名称", "水源地名称", "项目名称", "mc"),
    "town": ("town", "乡镇", "所在乡镇", "乡镇名称", "xzmc"),
    "zone_id": ("zone_id", "id", "编号", "bh", "区域编号", "fid_"),
}

def header_key(header: str) -> str:
    return re.sub(r"[\s_()（）\[\]【】-]", "", str(header)).lower()


def map_fields(
    columns: list[str] | pd.Index,
    targets: tuple[str, ...],
    overrides: dict[str, str] | None = None,
    *,
    source: str = "input",
) -> dict[str, str]:
    """Map target names to columns of the input; explicit overrides win.

    Returns ``{target: column}`` for every target found. An override naming a column
    that is not there raises InputFileError listing the columns.
    """
    cols = [str(c) for c in columns]
    out: dict[str, str] = {}
    for target, column in (overrides or {}).items():
        if column not in cols:
            msg = f"{source}: field {column!r} given for {target!r} is not in the file; columns: {', '.join(cols)}"
            raise InputFileError(msg)
        out[target] = column
    keyed = {header_key(c): c for c in cols}
    for target in targets:
        if target in out:
            continue
        for alias in (target, *FIELD_ALIASES.get(target, ())):
            if header_key(alias) in keyed:
                out[target] = keyed[header_key(alias)]
                break
    return out


def normalise_county(values: pd.Series, counties: gpd.GeoDataFrame) -> tuple[pd.Series, list[int]]:
    """County names or codes to adcodes; returns the codes and the positions not understood.

    Accepts the 6-digit adcode, a 9/12-digit code that starts with it, the full name
    (``泽州县``) or the name without its suffix (``泽州``), and lists of them separated by
    commas or 、.
    """
    by_name: dict[str, str] = {}
    for code, name in zip(counties["adcode"].astype(str), counties["name"].astype(str)):
        by_name[name] = code
        short = re.sub(r"(县|市|区)$", "", name)
        if short and short != name and short != "城":
            by_name[short] = code
        by_name[code] = code
    out: list[str | None] = []
    bad: list[int] = []
    for i, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
            out.append(None)
            bad.append(i)
            continue
        codes: list[str] = []
        for part in re.split(r"[,，、;；/]", str(value)):
            part = part.strip()
            if re.fullmatch(r"\d+(\.0)?", part):
                part = part.split(".")[0][:6]
            code = by_name.get(part)
            if code is None:
                codes = []
                break
            codes.append(code)
        if codes:
            out.append(",".join(dict.fromkeys(codes)))
        else:
            out.append(None)
            bad.append(i)
    return pd.Series(out, index=values.index, dtype=object), bad


_PROT = vocab.ZONE_CLASSES[vocab.PROTECTION]  # 一级, 二级, 准, 泉域 (strictest first)
_CTRL = vocab.ZONE_CLASSES[vocab.CONTROL]  # 一级, 二级
#: How bureau layers write a class (a level alone means the class of the layer's kind).
_CLASS_PATTERNS: list[tuple[str, str]] = [
    (r"泉域", _PROT[3]),
    (r"准保护", _PROT[2]),
    (r"^(一级|1级|i级|1)(保护区)?$", _PROT[0]),
    (r"^(二级|2级|ii级|2)(保护区)?$", _PROT[1]),
    (r"一级管控|^(一级|1级|i级|1)$", _CTRL[0]),
    (r"二级管控|^(二级|2级|ii级|2)$", _CTRL[1]),
    (r"一级保护", _PROT[0]),
    (r"二级保护", _PROT[1]),
    (r"规划区", vocab.PLANNING_AREA),
    (re.escape(vocab.CENTRAL_AREA), vocab.CENTRAL_AREA),
]


def normalise_zone_class(values: pd.Series, kind: str) -> tuple[pd.Series, list[int]]:
    """Bring class/level values to the report's names for ``kind``; returns positions not understood."""
    allowed = ZONE_CLASSES.get(kind, ())
    out: list[str | None] = []
    bad: list[int] = []
    for i, value in enumerate(values.tolist()):
        text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
        key = text.lower().replace(" ", "")
        found = text if text in allowed else None
        if found is None:
            for pattern, cls in _CLASS_PATTERNS:
                if cls in allowed and re.search(pattern, key):
                    found = cls
                    break
        out.append(found)
        if found is None:
            bad.append(i)
    return pd.Series(out, index=values.index, dtype=object), bad
