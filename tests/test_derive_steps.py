"""Every step of zoning.derive.steps on small hand-made arrays with worked answers."""

import numpy as np
import pytest

from zoning.derive import steps
from zoning.derive.steps import FNODATA, NODATA


def test_quality_grade_and_function_value_matrix():
    q = np.array([1, 2, 3, 4, 5, NODATA], np.uint8)
    g = steps.quality_grade(q)
    assert g.tolist() == [1, 1, 1, 2, 3, NODATA]
    # abundance rows strong/medium/weak x grade good/IV/V, default matrix
    ab = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3]], np.uint8)
    gr = np.array([[1, 2, 3]] * 3, np.uint8)
    fv = steps.function_value(ab, gr)
    assert fv.tolist() == [[3, 3, 2], [3, 2, 1], [1, 1, 1]]
    assert steps.function_value(np.array([NODATA]), np.array([1]))[0] == NODATA
    assert steps.function_value(np.array([1]), np.array([NODATA]))[0] == NODATA
    custom = [[3, 2, 1], [2, 2, 1], [1, 1, 1]]
    assert steps.function_value(np.array([1]), np.array([2]), custom)[0] == 2


def test_rate_by_ranges_aller_tables():
    b, r = steps.DRASTIC_RANGE_TABLES["D"]
    depth = np.array([0.5, 3.0, 8.0, 12.0, 20.0, 25.0, 40.0])
    assert steps.rate_by_ranges(depth, b, r).tolist() == [10, 9, 7, 5, 3, 2, 1]
    b, r = steps.DRASTIC_RANGE_TABLES["T"]
    assert steps.rate_by_ranges(np.array([1.0, 4.0, 10.0, 15.0, 30.0]), b, r).tolist() == [10, 9, 5, 3, 1]


def test_drastic_index_weights_and_nodata():
    ones = {f: np.array([10, 1, 5], np.uint8) for f in steps.DRASTIC_FACTORS}
    idx = steps.drastic_index(ones)
    assert idx.tolist() == [230.0, 23.0, 115.0]
    r = {f: np.array([1], np.uint8) for f in steps.DRASTIC_FACTORS}
    r["D"] = np.array([10], np.uint8)  # 5*10 + 4+3+2+1+5+3 = 68
    assert steps.drastic_index(r)[0] == 68.0
    r["C"] = np.array([NODATA], np.uint8)
    assert steps.drastic_index(r)[0] == FNODATA
    with pytest.raises(ValueError):
        steps.drastic_index({"D": np.array([1])})


def test_vulnerability_classes():
    idx = np.array([23, 99.9, 100, 139.9, 140, 230, FNODATA], np.float32)
    assert steps.vulnerability(idx, [100, 140]).tolist() == [1, 1, 2, 2, 3, 3, NODATA]


def test_cop_index_and_classes():
    c = np.array([0.5, 1.0, 1.0, 1.0, 1.0, 0.5], np.float32)
    o = np.array([1.0, 0.8, 1.5, 3.0, 10.0, 1.0], np.float32)
    p = np.array([0.5, 1.0, 1.0, 1.0, 1.0, 0.2], np.float32)  # last P out of range -> nodata
    idx = steps.cop_index(c, o, p)
    assert np.allclose(idx[:5], [0.25, 0.8, 1.5, 3.0, 10.0])
    assert idx[5] == FNODATA
    # 0.25 high, 0.8 higher, 1.5 medium, 3 lower, 10 low, nodata -> 0 (not karst)
    assert steps.cop_class(idx).tolist() == [5, 4, 3, 2, 1, 0]


def test_source_load_and_spread_linear():
    v = steps.source_load(np.array([4]), np.array([3]), np.array([2.5]), np.array([2.0]))
    assert v.tolist() == [60.0]
    # source at the centre of cell (2, 2), radius 2 cells, linear decay
    L = steps.spread_load((5, 5), np.array([2.5]), np.array([2.5]), np.array([60.0]), 2.0, "linear")
    assert L[2, 2] == 60.0
    assert L[2, 3] == pytest.approx(30.0)  # d = 1 -> 1 - 1/2
    assert L[3, 3] == pytest.approx(60.0 * (1 - np.sqrt(2) / 2))
    assert L[2, 4] == 0.0  # d = 2 is not strictly within the radius
    assert L[0, 0] == 0.0
    flat = steps.spread_load((5, 5), np.array([2.5]), np.array([2.5]), np.array([7.0]), 1.5, "none")
    assert flat.sum() == 7.0 * 9  # the 3x3 block (corner d = 1.41 < 1.5)
    two = steps.spread_load((5, 5), np.array([2.5, 2.5]), np.array([2.5, 3.5]), np.array([1.0, 2.0]), 1.0, "none")
    assert two[2, 2] == 1.0 and two[2, 3] == 2.0


def test_spread_windowed_equals_whole():
    rng = np.random.default_rng(1)
    n = 300
    rows, cols = rng.uniform(-5, 105, n), rng.uniform(-5, 85, n)
    vals = rng.lognormal(size=n)
    rad = rng.choice([1.5, 3.2, 6.0], n)
    dec = rng.choice(["none", "linear", "exp"], n)
    whole = steps.spread_load((100, 80), rows, cols, vals, rad, dec)
    parts = [
        steps.spread_load((h, 80), rows, cols, vals, rad, dec, row_off=r0) for r0, h in ((0, 13), (13, 40), (53, 47))
    ]
    assert np.array_equal(np.vstack(parts), whole)


def test_load_class():
    load = np.array([0.0, 5.0, 20.0, 49.9, 50.0, 300.0])
    assert steps.load_class(load, [20, 50]).tolist() == [0, 1, 2, 2, 3, 3]


def _rules(fv, vuln, load, cop=0, key=0, prot=0, **kw):
    a = lambda v: np.array([v], np.uint8)  # noqa: E731
    return int(steps.control_class(a(fv), a(vuln), a(load), a(cop), a(key), a(prot), **kw)[0])


def test_decision_rules_of_the_report():
    # high function value, high vulnerability, high load -> 一级管控区
    assert _rules(3, 3, 3) == 2
    # the same with low (or medium, or no) load -> 二级管控区
    assert _rules(3, 3, 1) == 1
    assert _rules(3, 3, 2) == 1
    assert _rules(3, 3, 0) == 1
    # inside a 三线一单 key unit the 二级 becomes 一级
    assert _rules(3, 3, 1, key=1) == 2
    # inside a protection zone: protection class only, no control class
    for p in (1, 2, 3, 4):
        assert _rules(3, 3, 3, prot=p) == 0
    # deep-karst high vulnerability alone -> 二级管控区 (even under high load, default)
    assert _rules(1, 1, 0, cop=5) == 1
    assert _rules(1, 1, 3, cop=4) == 1
    # shallow needs both: high FV with medium vulnerability is not control
    assert _rules(3, 2, 3) == 0
    assert _rules(2, 3, 3) == 0
    # 就高不就低: shallow 一级 overlapping deep 二级 stays 一级
    assert _rules(3, 3, 3, cop=5) == 2


def test_decision_rule_switches():
    # COP high = 高 only: 较高 no longer counts
    assert _rules(1, 1, 0, cop=4, cop_high_classes=[5]) == 0
    assert _rules(1, 1, 0, cop=5, cop_high_classes=[5]) == 1
    # the key-unit upgrade for deep-only cells is a switch
    assert _rules(1, 1, 0, cop=5, key=1) == 1
    assert _rules(1, 1, 0, cop=5, key=1, key_unit_lifts_deep=True) == 2
    assert _rules(1, 1, 3, cop=5, high_load_lifts_deep=True) == 2


def test_protection_strictest_and_final_levels():
    spring = np.array([1, 1, 0, 0])
    source2 = np.array([0, 3, 3, 0])
    source1 = np.array([0, 0, 4, 0])
    prot = steps.protection_class(spring, source2, source1)
    assert prot.tolist() == [1, 3, 4, 0]
    ctrl = np.array([2, 1, 0, 1], np.uint8)
    valid = np.array([True, True, True, False])
    lv = steps.final_levels(ctrl, prot, valid)
    assert lv.tolist() == [3, 5, 6, NODATA]
    assert [steps.LEVEL_NAMES[int(v)] for v in lv[:3]] == ["泉域重点保护区", "二级保护区", "一级保护区"]


def test_unknown_codes_and_classify():
    assert steps.unknown_codes(np.array([1, 2, 7, NODATA, 0]), [1, 2, 3]) == [0, 7]
    with pytest.raises(ValueError):
        steps.classify(np.array([1.0]), [5, 2])


def test_demo_disc_mask_and_labels():
    # helpers of the demonstration calibration (zoning.demo.groundwater)
    from pyproj import CRS
    from shapely.geometry import Point

    from zoning.demo import groundwater as demo
    from zoning.derive.pipeline import Grid

    grid = Grid.from_bounds(CRS.from_epsg(4547), (0, 0, 2000, 2000), 100)
    pts = [(530.0, 770.0), (1410.0, 1220.0)]
    fast = demo._disc_mask(grid, pts, 333.0)
    burnt = demo._burn([Point(x, y).buffer(333.0, 64) for x, y in pts], grid)
    assert fast.sum() > 20 and np.array_equal(fast, burnt)  # cell-centre test = rasterised polygons
    m = np.array(
        [
            [1, 1, 0, 0],
            [0, 0, 1, 0],  # touches the first part at a corner only: a zone of its own
            [1, 0, 1, 0],
            [1, 0, 0, 0],
        ],
        bool,
    )
    lab, n = demo._label(m)
    assert n == 3 and len(np.unique(lab[m])) == 3 and (lab[~m] == 0).all()
    assert lab[0, 0] == lab[0, 1] and lab[1, 2] == lab[2, 2] and lab[2, 0] == lab[3, 0]
    one = np.zeros((4, 4), bool)
    one[0, 0] = True
    assert demo._dilate(one).sum() == 4 and demo._dilate(one, 2).sum() == 9
