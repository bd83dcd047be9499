"""``zoning layers``: list, validate, show and import the layers of a pack."""

from __future__ import annotations

import click

from zoning.cli import options
from zoning.core import vocab


@click.group(short_help="List, validate, show and import pack layers.")
def layers() -> None:
    """Manage a layer pack: a directory with manifest.toml and GIS files."""


pack_arg = click.argument("pack", required=False, metavar="[PACK]", callback=options.pack_handler)


def _source_line(spec) -> str:
    from zoning.core.context import source_of

    return source_of(spec.provenance)


@layers.command("list", short_help="List the layers of a pack.")
@options.pack_opt
def list_layers(pack) -> None:
    """List each layer of the pack with its kind, accuracy and source."""
    click.echo(f"{pack.title} ({pack.path})")
    for spec in pack.layers:
        click.echo(f"  {spec.name:28s} {spec.kind:24s} {spec.accuracy:14s} {_source_line(spec)}")


@layers.command("validate", short_help="Check every layer of a pack.")
@pack_arg
def validate(pack) -> None:
    """Check that every layer of PACK is readable, declares its CRS, has valid
    geometries and the required fields, and that every feature's county attribute
    agrees with the county polygon it lies in. Exit code 1 lists every problem.
    """
    from zoning.core.validate import validate_pack

    report = validate_pack(pack)
    click.echo(f"pack {pack.name}: {pack.path}")
    for rep in report.layers:
        status = "ok" if rep.ok else f"{len(rep.problems)} problem(s)"
        feats = "" if rep.features is None else f"{rep.features} features, "
        click.echo(f"  {rep.name} [{rep.kind}] {feats}accuracy {rep.accuracy}: {status}")
        spec = pack.layer(rep.name)
        click.echo(f"      source: {_source_line(spec)}")
        method = spec.provenance.get("method")
        if method:
            click.echo(f"      method: {method}")
        for p in rep.problems:
            click.echo(f"      - {p}")
    if report.rules and not any(p.startswith("rules:") for p in report.problems):
        click.echo(f"  rules catalogue: {report.rules} rules, as the manifest lists them: ok")
    for p in report.problems:
        click.echo(f"  - {p}")
    for w in report.warnings:
        click.echo(f"  note: {w}")
    if not report.ok:
        raise click.ClickException(f"{len(report.all_problems())} problem(s) in {pack.path}")
    from zoning.core.version import pack_version

    pv = pack_version(pack)  # the pack's version and content hash (zoning.core.version)
    click.echo(f"  version {pv.label}; content SHA-256 {pv.content_sha256} (rules {pv.rules_sha256[:16]}, "
               f"manifest {pv.manifest_sha256[:16]})")
    if pv.matches_record is False:
        click.echo(f"  note: the content differs from the content_sha256 the manifest records ({pv.recorded_sha256})")
    click.echo("valid")


@layers.command("rehash", short_help="Record the rules catalogue's SHA-256 hashes in the manifest.")
@click.argument("pack_dir", metavar="[PACK]", required=False)
def rehash(pack_dir: str | None) -> None:
    """After editing the rule files of PACK on purpose, record their SHA-256 in the
    manifest ([pack.rule_files]); until then every command refuses the altered catalogue.
    """
    from zoning.core import settings
    from zoning.core.manifest import rehash_rules

    target = pack_dir or str(settings.default_pack)
    hashes = rehash_rules(target)
    for name, digest in hashes.items():
        click.echo(f"  {name} {digest}")
    click.echo(f"recorded {len(hashes)} rule file(s) in {target}/manifest.toml")


@layers.command("show", short_help="Counts and areas per layer, beside the published figures.")
@pack_arg
@options.lang_opt
def show(pack, lang: str) -> None:
    """Print, per layer, the feature count and area by class and by county, with the
    figures the gazettes publish beside them.
    """
    from zoning.outputs.pack_report import pack_summary

    click.echo(pack_summary(pack, lang=lang))


def _name_handler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--name: a safe identifier (it becomes a file and table name in the pack); exit 2 otherwise."""
    from zoning.core.layers import check_name

    return None if value is None else options.checked(ctx, param, lambda: check_name(value))


@layers.command("import", short_help="Bring a shapefile/GeoPackage/GeoJSON into a pack.")
@click.argument("file", callback=options.input_file("FILE"), is_eager=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k for k in vocab.KINDS if k != vocab.RASTER]),
)
@options.pack_opt
@click.option(
    "--name",
    callback=_name_handler,
    is_eager=True,  # a bad name is refused before the pack is opened
    help="Layer name in the pack (default: the file name). Use an existing name with --replace to swap a layer.",
)
@click.option("--layer", "layer_name", help="Layer inside a multi-layer GeoPackage.")
@click.option("--encoding", callback=options.encoding_handler, is_eager=True, help="Attribute encoding (default: detected; GBK shapefiles without .cpg are recognised).")
@options.crs_opt
@click.option(
    "--field",
    "fields",
    multiple=True,
    callback=options.pairs("TARGET=COLUMN", "county=XZQDM"),
    metavar="TARGET=COLUMN",
    help="Map a field, e.g. --field county=XZQDM --field zone_class=类别 (repeatable).",
)
@click.option(
    "--accuracy", type=click.Choice(list(vocab.ACCURACIES)), default=vocab.OFFICIAL, show_default=True
)
@click.option("--source", help="Where the layer comes from (bureau, data set, date).")
@click.option("--document", "documents", multiple=True, help="A 文号 the layer implements (repeatable).")
@click.option("--valid-from", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--valid-to", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--repair", is_flag=True, help="Repair invalid geometries with make_valid instead of refusing them.")
@click.option("--replace", is_flag=True, help="Replace an existing layer of the same name.")
def import_(
    file,
    kind,
    pack,
    name,
    layer_name,
    encoding,
    crs,
    fields,
    accuracy,
    source,
    documents,
    valid_from,
    valid_to,
    repair,
    replace,
) -> None:
    """Import FILE as a layer of kind KIND: detect the encoding, map fields, reproject
    to the pack's CRS, validate, then write it into the pack with its provenance.

    \b
    Example (swap the demonstration control zones for the bureau's layer):
      zoning layers import 管控区.shp --kind groundwater_control \\
          --name groundwater_control --replace --field zone_class=管控级别 \\
          --source "市生态环境局 2024" --document 晋市环发〔2023〕123号
    """
    from zoning.core.errors import UsageError
    from zoning.inputs.importer import TARGETS, import_layer

    unknown = [t for t in fields if t not in TARGETS[kind]]
    if unknown:
        raise UsageError(
            f"--field {unknown[0]}={fields[unknown[0]]}: unknown target {unknown[0]!r} for --kind {kind}; "
            f"known: {', '.join(TARGETS[kind])}"
        )
    pack, spec, notes = import_layer(
        pack,
        file,
        kind=kind,
        name=name,
        layer=layer_name,
        encoding=encoding,
        crs=crs,
        field_map=fields,
        accuracy=accuracy,
        source=source,
        documents=tuple(documents),
        valid_from=valid_from.date() if valid_from else None,
        valid_to=valid_to.date() if valid_to else None,
        repair=repair,
        replace=replace,
    )
    for note in notes:
        click.echo(f"  {note}")
    click.echo(f"imported {file} as layer {spec.name!r} ({kind}, {accuracy}) into {pack.path}")


from zoning.cli.diff import diff  # noqa: E402
from zoning.cli.push import push  # noqa: E402

layers.add_command(push)
layers.add_command(diff)
