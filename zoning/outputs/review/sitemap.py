"""The site map of a review report: a static figure (matplotlib, Agg, no network).

The red line (or the point) over the groundwater zones, the planning extents and the
county lines, with a legend, a scale bar, a north arrow, a longitude/latitude grid, an
overview of the city and the accuracy of each layer printed on the map. CJK text uses
Noto CJK from Debian's fonts-noto-cjk (``scripts/install_fonts.sh``).
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from zoning.core import vocab

if TYPE_CHECKING:
    from zoning.core.context import PackContext
    from zoning.outputs.review.content import Review

__all__ = ["CJK_FAMILIES", "cjk_font_family", "render_site_map"]

#: CJK font families looked for, in order (Debian fonts-noto-cjk first).
CJK_FAMILIES: tuple[str, ...] = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei")

RED_LINE = "#e41a1c"

#: A view of the map: (west, south, east, north) in degrees.
_View = tuple[float, float, float, float]


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """The first installed CJK family of :data:`CJK_FAMILIES`.

    Raises
    ------
    ZoningError
        If none is installed (the map would show boxes instead of Chinese).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    import glob

    for path in sorted(glob.glob("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.tt*")):
        font_manager.fontManager.addfont(path)  # a font installed after matplotlib built its cache
        names = {f.name for f in font_manager.fontManager.ttflist}
        for fam in CJK_FAMILIES:
            if fam in names:
                return fam
    from zoning.core.errors import ZoningError

    msg = (
        "no CJK font for the report's map: install Debian's fonts-noto-cjk (bash scripts/install_fonts.sh); "
        f"looked for {', '.join(CJK_FAMILIES)}"
    )
    raise ZoningError(msg)


def _window(geom: Any, lat: float) -> _View:
    """A view around the site: its bounds with a margin, at least 2.5 km across."""
    x0, y0, x1, y1 = geom.bounds
    kx = 111.32 * math.cos(math.radians(lat))  # km per degree of longitude
    w_km = max((x1 - x0) * kx, (y1 - y0) * 110.57) * 2.2
    w_km = max(w_km, 2.5)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = w_km / 2 / kx, w_km / 2 / 110.57
    return cx - hw, cy - hh, cx + hw, cy + hh


def _nice_km(width_km: float) -> float:
    """A round length for a step of the scale bar, about a seventh of the view's width."""
    target = width_km / 7
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 50):
        if step >= target:
            return step
    return 50.0


def _rings(geom: Any) -> list[np.ndarray]:
    """Exterior and interior rings of a (multi)polygon as coordinate arrays."""
    import shapely

    out = []
    for part in getattr(geom, "geoms", [geom]):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        out.append(np.asarray(part.exterior.coords))
        out.extend(np.asarray(r.coords) for r in part.interiors)
    return out if out else [np.asarray(c.coords) for c in shapely.get_parts(shapely.boundary(geom))]


def _patch(geom: Any, **kw: Any) -> Any:
    """A (multi)polygon as one matplotlib patch, holes kept; None if it has no ring to draw."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for ring in _rings(geom):
        if len(ring) < 3:
            continue
        verts.append(ring[:, :2])
        c = np.full(len(ring), MPath.LINETO, dtype=np.uint8)
        c[0] = MPath.MOVETO
        c[-1] = MPath.CLOSEPOLY
        codes.append(c)
    if not verts:
        return None
    return PathPatch(MPath(np.concatenate(verts), np.concatenate(codes)), **kw)


def _lines(ax: Any, geom: Any, **kw: Any) -> None:
    """Every line of ``geom`` drawn on ``ax``."""
    import shapely

    for part in shapely.get_parts(geom):
        xy = np.asarray(part.coords)
        if len(xy) > 1:
            ax.plot(xy[:, 0], xy[:, 1], **kw)


def render_site_map(context: PackContext, review: Review, *, dpi: int = 170) -> bytes:
    """The site map of ``review`` as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    family = cjk_font_family()
    zh = review.lang == "zh"
    geom = review.geometry
    lat = float(geom.centroid.y)
    view = _window(geom, lat)
    fig = Figure(figsize=(6.3, 4.7), dpi=dpi)
    ax = fig.add_axes((0.1, 0.17, 0.6, 0.8))
    ax.set_facecolor("#fbfbf8")
    legend: dict[str, Any] = {}
    _draw_zones(ax, context.features, view, review.lang, legend)
    _draw_counties(ax, context.counties, geom, view, family, review.lang, legend)
    _draw_site(ax, review, legend)
    _set_view(ax, view, lat)
    _draw_grid(ax)
    _draw_scale_bar(ax, view, lat, family, zh)
    _draw_north_arrow(ax, family, zh)
    _draw_overview(fig, context.counties, geom, view, lat)
    _draw_legend(fig, legend, family, zh)
    _draw_accuracy(fig, review, family)
    _draw_crs(fig, family, zh)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _draw_zones(ax: Any, features: Any, view: _View, lang: str, legend: dict[str, Any]) -> None:
    """The planning extents (dashed outlines) and the groundwater zones (filled) in the view,
    weakest first so the strictest is on top; each class once in ``legend``."""
    import shapely
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    x0, y0, x1, y1 = view
    sel = features.iloc[np.sort(features.sindex.query(shapely.box(x0, y0, x1, y1)))]
    for kind in (vocab.EXTENT, vocab.CONTROL, vocab.PROTECTION):
        part = sel[sel["kind"].to_numpy() == kind]
        for cls, geo in zip(part["zone_class"].to_numpy(), part.geometry.to_numpy()):
            spec = vocab.ZONE_CLASSES_BY_NAME.get(str(cls))
            colour = spec.colour if spec else "#888888"
            clipped = shapely.clip_by_rect(shapely.boundary(geo) if kind == vocab.EXTENT else geo, x0, y0, x1, y1)
            if clipped.is_empty:
                continue
            label = vocab.class_label(str(cls), lang)
            if kind == vocab.EXTENT:
                _lines(ax, clipped, color=colour, lw=1.6, ls=(0, (6, 3)), zorder=3)
                legend.setdefault(str(cls), Line2D([], [], color=colour, lw=1.6, ls=(0, (6, 3)), label=label))
            else:
                p = _patch(clipped, facecolor=colour, alpha=0.45, edgecolor=colour, lw=0.8, zorder=2)
                if p is not None:
                    ax.add_patch(p)
                legend.setdefault(str(cls), Patch(facecolor=colour, alpha=0.45, edgecolor=colour, label=label))


def _draw_counties(
    ax: Any, counties: Any, geom: Any, view: _View, family: str, lang: str, legend: dict[str, Any]
) -> None:
    """The county lines in the view (dotted grey) and the name of each county that fills
    enough of it, placed off the site; the county line in ``legend`` if one is drawn."""
    import shapely
    from matplotlib.lines import Line2D

    x0, y0, x1, y1 = view
    rect = shapely.box(x0, y0, x1, y1)
    cidx = counties.sindex.query(rect)
    for name, geo in zip(counties["name"].to_numpy()[cidx], counties.geometry.to_numpy()[cidx]):
        clipped = shapely.clip_by_rect(shapely.boundary(geo), x0, y0, x1, y1)
        if not clipped.is_empty:
            _lines(ax, clipped, color="#555555", lw=1.0, ls=(0, (1, 1.5)), zorder=4)
        inside = shapely.intersection(geo, rect)
        if not inside.is_empty and inside.area > 0.02 * rect.area:
            pt = shapely.difference(inside, geom.buffer((x1 - x0) * 0.12)).representative_point()  # not on the site
            if pt.is_empty:
                continue
            ax.text(pt.x, pt.y, str(name), fontsize=8, color="#555555", family=family, ha="center", zorder=5)
    if cidx.size:
        legend["counties"] = Line2D(
            [],
            [],
            color="#555555",
            lw=1.0,
            ls=(0, (1, 1.5)),
            label=vocab.label(vocab.KIND_LABELS[vocab.COUNTIES], lang),
        )


def _draw_site(ax: Any, review: Review, legend: dict[str, Any]) -> None:
    """The site on top of everything: a red star for a point, else the red line; and its
    entry, last, in ``legend``."""
    from matplotlib.lines import Line2D

    zh = review.lang == "zh"
    geom = review.geometry
    if review.is_point:
        ax.plot([geom.x], [geom.y], marker="*", ms=15, color=RED_LINE, mec="white", mew=0.8, zorder=6)
        legend["site"] = Line2D(
            [], [], marker="*", ms=11, color=RED_LINE, lw=0, label="项目点位" if zh else "site point"
        )
    else:
        p = _patch(geom, facecolor="none", edgecolor=RED_LINE, lw=2.0, zorder=6)
        if p is not None:
            ax.add_patch(p)
        legend["site"] = Line2D([], [], color=RED_LINE, lw=2.0, label="项目用地红线" if zh else "site red line")


def _set_view(ax: Any, view: _View, lat: float) -> None:
    """The map shows the view, a degree of longitude as long as on the ground at the site's latitude."""
    x0, y0, x1, y1 = view
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians(lat)))


def _draw_grid(ax: Any) -> None:
    """The longitude/latitude grid, about four lines each way, labelled in degrees."""
    from matplotlib import ticker

    ax.grid(True, color="#bbbbbb", lw=0.5, ls="-", zorder=1)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3f}°E"))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.3f}°N"))
    ax.xaxis.set_major_locator(ticker.MaxNLocator(4))
    ax.yaxis.set_major_locator(ticker.MaxNLocator(4))


def _draw_scale_bar(ax: Any, view: _View, lat: float, family: str, zh: bool) -> None:
    """The scale bar at the bottom left: two black and white steps of a round number of
    kilometres at the site's latitude, numbered, with the unit."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = view
    kx = 111.32 * math.cos(math.radians(lat))
    width_km = (x1 - x0) * kx
    step = _nice_km(width_km)
    bx, by = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    seg = step / kx
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (bx + i * seg, by),
                seg,
                (y1 - y0) * 0.012,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                lw=0.6,
                zorder=7,
            )
        )
    for i, v in enumerate((0, step, 2 * step)):
        ax.text(bx + i * seg, by + (y1 - y0) * 0.022, f"{v:g}", fontsize=6.5, ha="center", zorder=7, family=family)
    ax.text(
        bx + 2 * seg + (x1 - x0) * 0.02, by, "公里" if zh else "km", fontsize=6.5, va="bottom", zorder=7, family=family
    )


def _draw_north_arrow(ax: Any, family: str, zh: bool) -> None:
    """The north arrow at the top right of the map."""
    ax.annotate(
        "",
        xy=(0.93, 0.9),
        xytext=(0.93, 0.8),
        xycoords="axes fraction",
        arrowprops=dict(facecolor="black", width=3, headwidth=9, headlength=9),
        zorder=8,
    )
    ax.text(
        0.93,
        0.91,
        "北 N" if zh else "N",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=8,
        family=family,
        zorder=8,
    )


def _draw_overview(fig: Any, counties: Any, geom: Any, view: _View, lat: float) -> None:
    """The overview at the top right: the city's counties, the view as a red frame and the
    site as a red dot."""
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = view
    inset = fig.add_axes((0.74, 0.67, 0.24, 0.29))
    inset.set_xticks([])
    inset.set_yticks([])
    for geo in counties.geometry.to_numpy():
        p = _patch(geo, facecolor="#eeeeee", edgecolor="#777777", lw=0.4)
        if p is not None:
            inset.add_patch(p)
    b = counties.total_bounds
    inset.set_xlim(b[0], b[2])
    inset.set_ylim(b[1], b[3])
    inset.set_aspect(1 / math.cos(math.radians(lat)))
    inset.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=RED_LINE, lw=1.2))
    inset.plot([geom.centroid.x], [geom.centroid.y], marker="o", ms=2.5, color=RED_LINE)


def _draw_legend(fig: Any, legend: dict[str, Any], family: str, zh: bool) -> None:
    """The legend under the overview: the entries in the order they were drawn; a long label
    (a Chinese name with its English one) breaks before its bracket, so that it stays within
    the page."""
    import textwrap

    for handle in legend.values():
        text = handle.get_label()
        if len(text) > 22 and " (" in text:
            name, _, other = text.partition(" (")
            handle.set_label(name + "\n" + textwrap.fill("(" + other, width=28))
    fig.legend(
        handles=list(legend.values()),
        loc="upper left",
        bbox_to_anchor=(0.725, 0.63),
        fontsize=6.5,
        prop={"family": family, "size": 6.5},
        frameon=False,
        title="图例" if zh else "Legend",
        title_fontproperties={"family": family, "size": 7.5},
    )


def _draw_accuracy(fig: Any, review: Review, family: str) -> None:
    """The accuracy of each layer at the foot of the figure, in dark red when the review
    rests on demonstration data."""
    import textwrap

    zh = review.lang == "zh"
    acc = ("图层精度: " if zh else "Layer accuracy: ") + ("；" if zh else "; ").join(
        f"{k} — {a}" for k, a in review.map_accuracy
    )
    wrapped = textwrap.fill(acc, width=62 if zh else 125)
    fig.text(
        0.04,
        0.015,
        wrapped,
        fontsize=6.5,
        family=family,
        va="bottom",
        color="#8b0000" if review.demonstration else "#333333",
    )


def _draw_crs(fig: Any, family: str, zh: bool) -> None:
    """The coordinate system, above the accuracy."""
    fig.text(
        0.04,
        0.085,
        ("坐标系: CGCS2000 (EPSG:4490) 经纬度" if zh else "CRS: CGCS2000 (EPSG:4490) longitude/latitude"),
        fontsize=6.5,
        family=family,
        va="bottom",
    )
