"""``zoning map``: write an interactive HTML map of a layer pack."""

from __future__ import annotations

from pathlib import Path

import click

from zoning.cli import options


def _layers_handler(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    """--layers a,b --layers c  ->  [a, b, c] (None when not given)."""
    names: list[str] = []
    for value in values:
        names.extend(n.strip() for n in value.split(",") if n.strip())
    return names or None


@click.command("map", short_help="Write an interactive HTML map of the layers.")
@options.pack_opt
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="HTML file to write (default: maps/<pack>.html).",
)
@click.option(
    "--layers",
    "layers",
    multiple=True,
    callback=_layers_handler,
    metavar="NAMES",
    help="Pack layers to show, comma-separated or repeated (default: all vector layers).",
)
@click.option(
    "--sites",
    callback=options.input_file("--sites"),
    default=None,
    metavar="FILE",
    help="Sites to draw, any file zoning check reads (its results too: coloured by their verdict).",
)
@options.crs_opt
@options.order_opt
@click.option("--sites-layer", default=None, metavar="NAME",
              help="Layer of a --sites GeoPackage that holds several (default: the only one with geometries).")
@click.option(
    "--basemap",
    type=click.Choice(["none", "osm", "tianditu"]),
    default="none",
    show_default=True,
    help="Background tiles; tianditu needs $TIANDITU_KEY. none works with no network.",
)
@click.option("--offline", is_flag=True, help="Inline Leaflet into the HTML: one file, no CDN.")
@options.lang_opt
@click.option("--overwrite", is_flag=True, help="Replace FILE if it exists.")
def map_cmd(pack, output, layers, sites, crs, order, sites_layer, basemap, offline, lang, overwrite):
    """Write an interactive HTML map of a layer pack.

    Counties, 中心城市规划区 and 中心城区 (with the land-supply quota), groundwater
    protection and control zones by class, key projects counted per county, and
    optional sites coloured by verdict; with a legend, layer switcher, scale bar,
    popups citing the rules, and a click-anywhere query that runs in the page.
    Indicative and demonstration layers are drawn dashed and labelled as such.

    \b
    Examples:
      zoning map --offline -o maps/jincheng.html
      zoning map --layers counties,groundwater_control --lang en -o maps/control.html
      zoning map --sites out/check/sites_demo_check.gpkg -o maps/sites.html --overwrite
      TIANDITU_KEY=... zoning map --basemap tianditu -o maps/tdt.html
    """
    import warnings

    from zoning.core.manifest import atomic_write_text
    from zoning.maps import build_map

    output = options.output_file(output or Path("maps") / f"{pack.name}.html", "-o", overwrite=overwrite)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        drawn = None
        if sites:  # read as zoning check reads them: any table, vector or 界址点 file
            from zoning.inputs.sites import read_sites

            drawn = read_sites(sites, layer=sites_layer, crs=crs, order=order)
        m = build_map(pack, layers=layers, sites=drawn, basemap=basemap, lang=lang, offline=offline)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, m.get_root().render())  # a unique temporary name, removed on any error
    size = output.stat().st_size
    click.echo(f"wrote {output} ({size / 1e6:.2f} MB{', offline' if offline else ''})")


