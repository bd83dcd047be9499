"""``zoning query``: what applies at one point."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zoning.cli import options


def _list_attributes(ctx, param, value):
    if not value or ctx.resilient_parsing:
        return
    from zoning.core.rules import PROJECT_ATTRIBUTES

    for spec in PROJECT_ATTRIBUTES.values():
        allowed = (
            ", ".join(f"{v.value} ({v.zh})" for v in spec.values)
            if spec.values
            else ("true/false (是/否)" if spec.type == "bool" else f"number ({spec.unit})")
        )
        click.echo(f"{spec.name:32s} {spec.zh} / {spec.en}: {allowed}")
    ctx.exit()


def _load_project_file(path: str) -> dict:
    import tomllib

    from zoning.core.errors import InputFileError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read the project description ({exc}); expected a JSON or TOML table of attributes"
        raise InputFileError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: expected a table of attributes, got {type(data).__name__}"
        raise InputFileError(msg)
    return data


@click.command(short_help="What applies at a point.")
@click.argument("x")
@click.argument("y")
@options.crs_opt
@options.order_opt
@options.pack_opt
@options.date_opt
@click.option(
    "--project-file",
    callback=options.input_file("--project-file"),
    metavar="FILE",
    help="Project attributes as a JSON or TOML table.",
)
@click.option(
    "-a",
    "--attr",
    "attrs",
    multiple=True,
    callback=options.attributes("NAME=VALUE", "construction=new", "-a"),
    metavar="NAME=VALUE",
    help="A project attribute, e.g. -a construction=new -a industry=chemical -a 排放污染物=是 (repeatable).",
)
@click.option(
    "--list-attributes",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_attributes,
    help="List the project attributes and their values, then exit.",
)
@click.option(
    "--radius", "radius_km", type=float, default=5.0, show_default=True, help="Radius for nearby key projects, km."
)
@click.option("--near", "near_m", type=float, default=None, metavar="METRES",
              help="Flag the zones of the classes the point lies outside that are within METRES of it "
              "(the nearest zone of each class, distance and direction, is always given).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "docx", "pdf"]), default="text", show_default=True,
              help="Output format; docx and pdf write the review report (审查报告) of the point to -o FILE.")
@click.option("-o", "--output", "out_file", metavar="FILE", help="The report file of --format docx/pdf.")
@click.option("--overwrite", is_flag=True, help="Replace the -o file if it exists.")
@options.lang_opt
def query(x, y, crs, order, pack, on_date, project_file, attrs, radius_km, near_m, fmt, out_file, overwrite,
          lang) -> None:
    """What applies at the point X Y (longitude latitude by default): county, planning
    extents, land-supply quota, groundwater zones and the articles that apply, nearby key
    projects, and the accuracy of every layer the answer rests on.

    Describe the project (-a or --project-file) to get a verdict per rule and overall;
    an attribute a rule needs but that is not given is reported, never taken as "no".

    \b
    Examples:
      zoning query 112.85 35.49                      # CGCS2000 lon/lat
      zoning query 112.8557 35.4882 --crs gcj02      # copied from Amap
      zoning query 38396465.71 3928409.18 --crs gk3  # Gauss-Kruger, zone prefix 38
      zoning query 3928409.18 38396465.71 --crs gk3 --order survey
      zoning query 112.85 35.49 -a construction=new -a industry=chemical --date 2025-06-01
      zoning query 112.85 35.49 --format json --lang en
    """
    from zoning.query import query_point

    project = None
    if project_file or attrs:
        project = _load_project_file(project_file) if project_file else {}
        project.update(attrs)
    if fmt in ("docx", "pdf") or out_file:  # the review report of the point (zoning.outputs.review)
        options.require_extra("report")
        from zoning.outputs.review import write_point_review

        path = write_point_review(x, y, crs, fmt=fmt, path=out_file, order=order, pack=pack, project=project,
                                  on_date=on_date.date() if on_date else None, lang=lang, overwrite=overwrite)
        click.echo(path)
        return
    result = query_point(
        x,
        y,
        crs,
        order=order,
        pack=pack,
        project=project,
        on_date=on_date.date() if on_date else None,
        radius_m=radius_km * 1000,
        lang=lang,
        with_nearest=True,  # the nearest zone of each class the point lies outside (zoning.core.nearest)
        near_m=near_m,
    )
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.to_text(lang))
        if result.county.located:
            from zoning.core.nearest import format_nearest_lines

            click.echo(format_nearest_lines(result.nearest, near_m, lang))
