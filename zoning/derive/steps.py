"""Pure steps of the 晋市环发〔2023〕123号 groundwater key-zone derivation.

Every function here takes numpy arrays and returns numpy arrays: no I/O, no CRS, no
files. The pipeline (:mod:`zoning.derive.pipeline`) reads windows of the inputs, calls
these steps in the report's order, and writes the results.

Class codes (all class maps are ``uint8``; :data:`NODATA` = 255 outside the extent or
where an input is missing):

=================  =====================================================================
map                codes
=================  =====================================================================
abundance (input)  1 strong, 2 medium, 3 weak (富水性 强/中等/弱)
quality (input)    1..5, GB/T 14848 class I..V
quality_grade      1 good (I–III), 2 medium (IV), 3 poor (V)
function_value     1 low, 2 medium, 3 high (功能价值 低/中/高)
vulnerability      1 low, 2 medium, 3 high (DRASTIC 脆弱性 低/中/高)
cop_class          0 not karst / not assessed, 1 低, 2 较低, 3 中等, 4 较高, 5 高 (vulnerability)
load_class         0 no load, 1 low, 2 medium, 3 high (污染源荷载)
protection         0 none, 1 泉域重点保护区, 2 准保护区, 3 二级保护区, 4 一级保护区
control            0 none, 1 二级管控区, 2 一级管控区
levels             0 一般区, 1 二级管控区, 2 一级管控区, 3 泉域重点保护区, 4 准保护区,
                   5 二级保护区, 6 一级保护区
=================  =====================================================================

Index maps (DRASTIC, COP, load) are ``float32`` with :data:`FNODATA` as nodata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from zoning.core.vocab import CONTROL, GENERAL_AREA, NO_ZONE, PROTECTION, ZONE_CLASS_LIST, class_by_rank

NODATA = 255
#: the ``levels`` code of a cell in no zone (一般区)
GENERAL_AREA_CODE = 0
FNODATA = -9999.0

ABUNDANCE_NAMES = {1: "强富水", 2: "中等富水", 3: "弱富水"}
QUALITY_NAMES = {1: "I类", 2: "II类", 3: "III类", 4: "IV类", 5: "V类"}
QUALITY_GRADE_NAMES = {1: "好 (I–III类)", 2: "中 (IV类)", 3: "差 (V类)"}
FV_NAMES = {1: "功能价值低", 2: "功能价值中", 3: "功能价值高"}
VULN_NAMES = {1: "脆弱性低", 2: "脆弱性中", 3: "脆弱性高"}
COP_NAMES = {0: "非岩溶区", 1: "低", 2: "较低", 3: "中等", 4: "较高", 5: "高"}
LOAD_NAMES = {0: "无荷载", 1: "低污染荷载", 2: "中污染荷载", 3: "高污染荷载"}
# Zone classes are spelled once, in zoning.core.vocab: code k of ``protection`` / ``control`` is
# the class of that rank, and ``levels`` writes each class's ``level_code``.
PROTECTION_NAMES: dict[int, str] = {
    0: NO_ZONE[0],
    **{r: n for r in range(1, 5) if (n := class_by_rank(PROTECTION, r)) is not None},
}
CONTROL_NAMES: dict[int, str] = {
    0: NO_ZONE[0],
    **{r: n for r in range(1, 3) if (n := class_by_rank(CONTROL, r)) is not None},
}
LEVEL_NAMES: dict[int, str] = {
    GENERAL_AREA_CODE: GENERAL_AREA[0],
    **{
        c.level_code: c.name
        for c in sorted(ZONE_CLASS_LIST, key=lambda c: c.level_code)
        if c.kind in (PROTECTION, CONTROL)
    },
}
PROTECTION_CLASS_CODES = {v: k for k, v in PROTECTION_NAMES.items() if k}

DRASTIC_FACTORS = ("D", "R", "A", "S", "T", "I", "C")
#: Aller et al. (1987) generic weights [V].
DRASTIC_WEIGHTS = {"D": 5, "R": 4, "A": 3, "S": 2, "T": 1, "I": 5, "C": 3}

#: Range tables (metric conversions of Aller et al. 1987) [V]: (upper bounds, ratings).
#: A value v gets ratings[i] for the first i with v < bounds[i]; beyond the last bound, ratings[-1].
DRASTIC_RANGE_TABLES: dict[str, tuple[list[float], list[int]]] = {
    "D": ([1.5, 4.6, 9.1, 15.2, 22.9, 30.5], [10, 9, 7, 5, 3, 2, 1]),  # depth, m
    "R": ([51, 102, 178, 254], [1, 3, 6, 8, 9]),  # net recharge, mm/a
    "T": ([2, 6, 12, 18], [10, 9, 5, 3, 1]),  # slope, %
    "C": ([4.1, 12.2, 28.5, 40.7, 81.5], [1, 2, 4, 6, 8, 10]),  # conductivity, m/d
}


# ---------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------


def unknown_codes(arr: np.ndarray, allowed: Sequence[int], nodata: int | None = NODATA) -> list[int]:
    """Codes in ``arr`` that are neither in ``allowed`` nor ``nodata`` (sorted)."""
    vals = np.unique(arr)
    ok = set(int(a) for a in allowed)
    if nodata is not None:
        ok.add(int(nodata))
    return [int(v) for v in vals if int(v) not in ok]


def classify(
    values: np.ndarray, breaks: Sequence[float], valid: np.ndarray | None = None, first: int = 1
) -> np.ndarray:
    """Class ``first + i`` where ``breaks[i-1] <= v < breaks[i]`` (``np.digitize``); NODATA where not valid."""
    b = np.asarray(breaks, dtype=np.float64)
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"class breaks must increase strictly: {list(breaks)}")
    out = (np.digitize(values, b) + first).astype(np.uint8)
    if valid is not None:
        out[~valid] = NODATA
    return out


# ---------------------------------------------------------------------------------
# function value (功能价值)
# ---------------------------------------------------------------------------------

#: GB/T 14848 class -> grade: I–III good, IV medium, V poor [R 6551–6553].
DEFAULT_QUALITY_GRADES = {1: 1, 2: 1, 3: 1, 4: 2, 5: 3}

#: function value by [abundance strong/medium/weak][quality good/medium/poor];
#: 3 high, 2 medium, 1 low. Not published [?]: weak -> low and (strong|medium) & good -> high
#: follow from the report's areas (method note §4); IV/V cells are a demonstration choice.
DEFAULT_FV_MATRIX = [
    [3, 3, 2],  # strong: good, IV, V
    [3, 2, 1],  # medium
    [1, 1, 1],  # weak
]


def quality_grade(
    quality: np.ndarray, grades: Mapping[int, int] = DEFAULT_QUALITY_GRADES, nodata: int = NODATA
) -> np.ndarray:
    """GB/T 14848 class (1..5) -> 1 good / 2 medium / 3 poor; unknown or nodata -> NODATA."""
    lut = np.full(256, NODATA, dtype=np.uint8)
    for k, v in grades.items():
        lut[int(k)] = int(v)
    q = np.asarray(quality)
    out = lut[np.clip(q, 0, 255).astype(np.uint8)]
    out[(q == nodata) | (q < 0) | (q > 255)] = NODATA
    return out


def function_value(
    abundance: np.ndarray, grade: np.ndarray, matrix: Sequence[Sequence[int]] = DEFAULT_FV_MATRIX
) -> np.ndarray:
    """Function value class from 富水性 (1..3) × quality grade (1..3) via a 3×3 lookup."""
    m = np.asarray(matrix, dtype=np.uint8)
    if m.shape != (3, 3):
        raise ValueError(f"function-value matrix must be 3x3, got {m.shape}")
    a = np.asarray(abundance)
    g = np.asarray(grade)
    valid = (a >= 1) & (a <= 3) & (g >= 1) & (g <= 3)
    out = np.full(a.shape, NODATA, dtype=np.uint8)
    out[valid] = m[a[valid].astype(np.intp) - 1, g[valid].astype(np.intp) - 1]
    return out


# ---------------------------------------------------------------------------------
# DRASTIC (shallow vulnerability)
# ---------------------------------------------------------------------------------


def rate_by_ranges(
    values: np.ndarray, bounds: Sequence[float], ratings: Sequence[int], valid: np.ndarray | None = None
) -> np.ndarray:
    """Rate a raw parameter (depth, recharge, slope, conductivity) with a range table."""
    if len(ratings) != len(bounds) + 1:
        raise ValueError("a range table needs one more rating than bounds")
    r = np.asarray(ratings, dtype=np.uint8)[np.digitize(values, np.asarray(bounds, float))]
    if valid is not None:
        r = r.copy()
        r[~valid] = NODATA
    return r


def drastic_index(ratings: Mapping[str, np.ndarray], weights: Mapping[str, float] = DRASTIC_WEIGHTS) -> np.ndarray:
    """Σ weight × rating over D, R, A, S, T, I, C (ratings 1..10); FNODATA where any rating is missing."""
    missing = [f for f in DRASTIC_FACTORS if f not in ratings]
    if missing:
        raise ValueError(f"DRASTIC needs all seven ratings; missing {missing}")
    shape = np.shape(ratings["D"])
    idx = np.zeros(shape, dtype=np.float32)
    valid = np.ones(shape, dtype=bool)
    for f in DRASTIC_FACTORS:
        r = np.asarray(ratings[f])
        valid &= (r >= 1) & (r <= 10)
        idx += np.float32(weights[f]) * r.astype(np.float32)
    idx[~valid] = FNODATA
    return idx


def vulnerability(index: np.ndarray, breaks: Sequence[float]) -> np.ndarray:
    """DRASTIC index -> 1 low / 2 medium / 3 high with two breaks (low < b1 <= medium < b2 <= high)."""
    if len(breaks) != 2:
        raise ValueError("DRASTIC classes need two breaks")
    return classify(index, breaks, valid=index != FNODATA)


# ---------------------------------------------------------------------------------
# COP (deep karst)
# ---------------------------------------------------------------------------------

#: Vías et al. (2006) [M]: COP 0–0.5 very high … 4–15 very low vulnerability.
DEFAULT_COP_BREAKS = [0.5, 1.0, 2.0, 4.0]


def cop_index(c: np.ndarray, o: np.ndarray, p: np.ndarray) -> np.ndarray:
    """COP = C × O × P; FNODATA where a factor is missing or out of range (C 0–1, O 1–15, P 0.4–1)."""
    c = np.asarray(c, dtype=np.float32)
    o = np.asarray(o, dtype=np.float32)
    p = np.asarray(p, dtype=np.float32)
    valid = (c >= 0) & (c <= 1) & (o >= 0) & (o <= 15) & (p >= 0.4 - 1e-6) & (p <= 1 + 1e-6)
    out = (c * o * p).astype(np.float32)
    out[~valid] = FNODATA
    return out


def cop_class(index: np.ndarray, breaks: Sequence[float] = DEFAULT_COP_BREAKS) -> np.ndarray:
    """COP index -> vulnerability class 5 高 (lowest index) .. 1 低; 0 where no index (not karst)."""
    if len(breaks) != 4:
        raise ValueError("COP classes need four breaks")
    valid = index != FNODATA
    k = np.digitize(index, np.asarray(breaks, float))  # 0 = most vulnerable
    out = (5 - k).astype(np.uint8)
    out[~valid] = 0
    return out


# ---------------------------------------------------------------------------------
# pollution-source load (污染源荷载)
# ---------------------------------------------------------------------------------


def source_load(
    toxicity: np.ndarray, release: np.ndarray, quantity: np.ndarray, weight: np.ndarray | float = 1.0
) -> np.ndarray:
    """Per-source load = type weight × toxicity × release likelihood × releasable quantity [R 6707–6715]."""
    return (
        np.asarray(weight, float)
        * np.asarray(toxicity, float)
        * np.asarray(release, float)
        * np.asarray(quantity, float)
    )


def spread_load(
    shape: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    radius: np.ndarray | float,
    decay: Sequence[str] | str = "linear",
    row_off: int = 0,
    col_off: int = 0,
    chunk: int = 256,
) -> np.ndarray:
    """Spread each source's load over the cells within its radius and sum (float64).

    ``rows``/``cols`` are the sources' positions in *global* fractional cell units (row 0.5 is
    the centre of the grid's first row); ``row_off``/``col_off`` place the output window in
    that grid, so a window computes exactly (bit for bit) what the whole grid computes there.
    ``radius`` is in cells (per source or scalar). ``decay`` per source or scalar:
    ``none`` (flat disc), ``linear`` (1 − d/r), ``exp`` (exp(−3 d/r)). A cell is loaded
    when its centre is strictly within the radius.
    """
    h, w = shape
    out = np.zeros(h * w, dtype=np.float64)
    n = len(values)
    if n == 0:
        return out.reshape(shape)
    rows = np.asarray(rows, float)
    cols = np.asarray(cols, float)
    values = np.asarray(values, float)
    radius = np.broadcast_to(np.asarray(radius, float), (n,))
    decay_arr = np.broadcast_to(np.asarray(decay, dtype=object), (n,))
    codes = np.array([{"none": 0, "linear": 1, "exp": 2}[str(d)] for d in decay_arr], dtype=np.int8)
    # group by (radius, decay) so each group shares one kernel footprint; keep source order
    keys = np.unique(np.stack([radius, codes.astype(float)], axis=1), axis=0)
    for r, code in keys:
        sel = np.flatnonzero((radius == r) & (codes == code))
        R = int(np.ceil(r))
        off = np.arange(-R, R + 1)
        grid_r, grid_c = np.meshgrid(off, off, indexing="ij")
        dr = grid_r.ravel()
        dc = grid_c.ravel()
        for s in range(0, len(sel), chunk):
            idx = sel[s : s + chunk]
            pr, pc = rows[idx], cols[idx]
            # skip sources whose footprint misses the window
            near = (pr + r >= row_off) & (pr - r <= row_off + h) & (pc + r >= col_off) & (pc - r <= col_off + w)
            if not near.any():
                continue
            idx, pr, pc = idx[near], pr[near], pc[near]
            gr = np.floor(pr).astype(np.int64)[:, None] + dr[None, :]
            gc = np.floor(pc).astype(np.int64)[:, None] + dc[None, :]
            d = np.hypot(gr + 0.5 - pr[:, None], gc + 0.5 - pc[:, None]) / r
            lr = gr - row_off
            lc = gc - col_off
            ok = (d < 1.0) & (lr >= 0) & (lr < h) & (lc >= 0) & (lc < w)
            if code == 0:
                f = np.ones_like(d)
            elif code == 1:
                f = 1.0 - d
            else:
                f = np.exp(-3.0 * d)
            val = (values[idx][:, None] * f)[ok]
            flat = (lr * w + lc)[ok]
            out += np.bincount(flat, weights=val, minlength=h * w)
    return out.reshape(shape)


def load_class(load: np.ndarray, breaks: Sequence[float], valid: np.ndarray | None = None) -> np.ndarray:
    """Summed load -> 0 no load (load <= 0), 1 low, 2 medium, 3 high (two breaks)."""
    if len(breaks) != 2:
        raise ValueError("load classes need two breaks")
    out = classify(load, breaks, first=1)
    out[~(load > 0)] = 0
    if valid is not None:
        out[~valid] = NODATA
    return out


# ---------------------------------------------------------------------------------
# decision rules (晋城, R 6723–6742, 6746–6772)
# ---------------------------------------------------------------------------------


def protection_class(*layers: np.ndarray) -> np.ndarray:
    """Combine protection rasters (codes 0..4 each): the strictest class wins [R 6723–6726]."""
    out = np.zeros(np.shape(layers[0]), dtype=np.uint8)
    for lay in layers:
        a = np.asarray(lay)
        out = np.maximum(out, np.where(a == NODATA, 0, a).astype(np.uint8))
    return out


def control_class(
    fv: np.ndarray,
    vuln: np.ndarray,
    load_cls: np.ndarray,
    cop_cls: np.ndarray,
    key_unit: np.ndarray,
    protection: np.ndarray,
    cop_high_classes: Sequence[int] = (4, 5),
    key_unit_lifts_deep: bool = False,
    high_load_lifts_deep: bool = False,
) -> np.ndarray:
    """The report's control-class rules, in its order (R 6746–6772).

    1. shallow: function value high AND DRASTIC vulnerability high -> 二级管控区 (1);
       with high pollution load -> 一级管控区 (2).
    2. 三线一单 key control unit (重点管控单元) lifts shallow 二级 to 一级.
    3. deep karst with COP class in ``cop_high_classes`` -> 二级 (optionally lifted by the
       key unit / high load, config switches); overlaps: the higher level governs (就高不就低).
    4. protection class is subtracted (cells with protection > 0 get 0).
    """
    key = np.asarray(key_unit).astype(bool)
    high_load = np.asarray(load_cls) == 3
    shallow = (np.asarray(fv) == 3) & (np.asarray(vuln) == 3)
    ctrl = np.where(shallow, np.where(high_load | key, 2, 1), 0).astype(np.uint8)
    deep = np.isin(np.asarray(cop_cls), np.asarray(list(cop_high_classes), dtype=np.uint8))
    lift = np.zeros_like(deep)
    if key_unit_lifts_deep:
        lift |= key
    if high_load_lifts_deep:
        lift |= high_load
    deep_lvl = np.where(deep, np.where(lift, 2, 1), 0).astype(np.uint8)
    ctrl = np.maximum(ctrl, deep_lvl)
    ctrl[np.asarray(protection) > 0] = 0
    return ctrl


def final_levels(control: np.ndarray, protection: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Protection (1..4 -> 3..6) over control (0..2); NODATA outside ``valid``."""
    prot = np.asarray(protection)
    out = np.where(prot > 0, prot.astype(np.uint8) + 2, np.asarray(control, dtype=np.uint8)).astype(np.uint8)
    if valid is not None:
        out[~valid] = NODATA
    return out


def class_counts(arr: np.ndarray, nodata: int | None = NODATA) -> dict[int, int]:
    """Cell count per class code (nodata excluded)."""
    vals, counts = np.unique(arr, return_counts=True)
    return {int(v): int(c) for v, c in zip(vals, counts) if nodata is None or int(v) != nodata}
