"""The review's site map after render_site_map was split into one function per thing drawn:
the figure still shows every piece (zones, county lines and names, the site, the grid, the
scale bar, the north arrow, the overview, the legend in drawing order, the CRS and the
layers' accuracy), and no function of the module grows back past a screen."""

from __future__ import annotations

import copy
import dataclasses

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

pytest.importorskip("matplotlib")

from zoning.check import build_context, check_sites  # noqa: E402
from zoning.core import vocab  # noqa: E402
from zoning.core.provenance import provenance  # noqa: E402
from zoning.outputs.review import build_reviews, sitemap  # noqa: E402

#: a red line across the 城区/泽州县 line inside both planning extents, a point in a control
#: zone, a red line over three protection zones, a point outside the city
SITES = {
    "across": box(112.88, 35.50, 112.887, 35.506),
    "point": Point(113.357138, 35.665727),
    "zones": box(113.05, 35.445, 113.08, 35.469),
    "outside": Point(116.4, 39.9),
}


@pytest.fixture(scope="module")
def checked():
    ctx = build_context(None)
    gdf = gpd.GeoDataFrame({"site_name": list(SITES)}, geometry=list(SITES.values()), crs="EPSG:4490")
    return ctx, check_sites(gdf, context=ctx)


def _reviews(ctx, res, lang):
    rvs = build_reviews(ctx, res, provenance(ctx.context, on_date=ctx.on_date, input_text="t"), lang=lang)
    return dict(zip(SITES, rvs))


def _figure(context, rv, monkeypatch):
    """The Figure render_site_map saves, and the PNG it returns."""
    from matplotlib.figure import Figure

    saved = []
    save = Figure.savefig

    def keep(self, *a, **k):
        saved.append(self)
        return save(self, *a, **k)

    monkeypatch.setattr(Figure, "savefig", keep)
    png = sitemap.render_site_map(context, rv)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(saved) == 1
    return saved[0]


def _legend(fig) -> list[str]:
    return [" ".join(t.get_text().split()) for t in fig.legends[0].get_texts()]  # a long entry breaks into lines


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_red_line_across_a_county_line(checked, monkeypatch):
    ctx, res = checked
    rv = _reviews(ctx, res, "zh")["across"]
    fig = _figure(ctx.context, rv, monkeypatch)
    ax, inset = fig.axes
    # the extent first (drawn weakest first), then the zone, the county line and the site last
    assert _legend(fig) == [
        vocab.class_label("中心城区", "zh"),
        vocab.class_label("一级保护区", "zh"),
        vocab.label(vocab.KIND_LABELS[vocab.COUNTIES], "zh"),
        "项目用地红线",
    ]
    assert fig.legends[0].get_title().get_text() == "图例"
    assert {"城区", "泽州县"} <= set(_texts(ax))  # the county names
    assert {"0", "公里", "北 N"} <= set(_texts(ax))  # scale bar and north arrow
    x0, x1 = ax.get_xlim()
    assert x0 < 112.88 and x1 > 112.887 and ax.xaxis.get_major_formatter()(112.88, 0) == "112.880°E"
    assert inset.get_xticks().size == 0 and len(inset.patches) == len(ctx.context.counties) + 1  # + the view
    foot = [t.get_text() for t in fig.texts]
    assert foot[0].startswith("图层精度") and foot[1].startswith("坐标系")
    assert fig.texts[0].get_color() == "#8b0000"  # demonstration data


def test_point_in_a_control_zone_in_english(checked, monkeypatch):
    ctx, res = checked
    rv = _reviews(ctx, res, "en")["point"]
    fig = _figure(ctx.context, rv, monkeypatch)
    ax = fig.axes[0]
    got = _legend(fig)
    assert got[-1] == "site point" and got[-2] == "counties"
    assert vocab.class_label("二级管控区", "en") in got
    assert [ln.get_marker() for ln in ax.lines if ln.get_zorder() == 6] == ["*"]
    assert {"km", "N"} <= set(_texts(ax))
    assert fig.legends[0].get_title().get_text() == "Legend"


def test_protection_zones_strictest_on_top(checked, monkeypatch):
    ctx, res = checked
    rv = _reviews(ctx, res, "zh")["zones"]
    fig = _figure(ctx.context, rv, monkeypatch)
    got = _legend(fig)
    assert [c for c in ("一级保护区", "二级保护区", "准保护区") if vocab.class_label(c, "zh") in got] == [
        "一级保护区",
        "二级保护区",
        "准保护区",
    ]
    zone_patches = [p for p in fig.axes[0].patches if p.get_zorder() == 2]
    assert len(zone_patches) >= 3


def test_site_outside_the_city_shows_only_itself(checked, monkeypatch):
    ctx, res = checked
    rv = _reviews(ctx, res, "en")["outside"]
    fig = _figure(ctx.context, rv, monkeypatch)
    assert _legend(fig) == ["site point"]


def test_official_layers_print_the_accuracy_in_grey(checked, monkeypatch):
    ctx, res = checked
    context = copy.copy(ctx.context)
    context.layers_used = [dataclasses.replace(lu, accuracy=vocab.OFFICIAL) for lu in ctx.context.layers_used]
    official = copy.copy(ctx)
    official.context = context
    rv = _reviews(official, res.assign(demonstration_basis=False), "en")["across"]
    assert not rv.demonstration
    fig = _figure(context, rv, monkeypatch)
    assert fig.texts[0].get_text().startswith("Layer accuracy: ") and fig.texts[0].get_color() == "#333333"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_legend_entry_stays_within_the_page(checked, monkeypatch, lang):
    """The legend beside the map names each class in Chinese and, in English reports, its
    English name too: a long name breaks (before its bracket, then by width) so that it ends
    inside the figure; the English names ran off the page's right edge."""
    ctx, res = checked
    many = box(112.0, 35.2, 112.95, 35.75)  # a red line across most classes and both extents
    gdf = gpd.GeoDataFrame({"site_name": ["many"]}, geometry=[many], crs="EPSG:4490")
    rv = build_reviews(ctx, check_sites(gdf, context=ctx), provenance(ctx.context, on_date=ctx.on_date,
                                                                      input_text="t"), lang=lang)[0]
    fig = _figure(ctx.context, rv, monkeypatch)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    width = fig.bbox.width
    texts = [t for leg in fig.legends for t in leg.get_texts()]
    assert len(texts) >= 8
    for t in texts:
        box_ = t.get_window_extent(renderer)
        assert box_.x1 <= width and box_.y0 >= 0, t.get_text()
