"""The pack's layers as OGC API – Features, served by pygeoapi mounted at ``/ogc``.

pygeoapi (a maintained OGC reference implementation) reads its configuration once, at
import, from ``$PYGEOAPI_CONFIG`` and ``$PYGEOAPI_OPENAPI``. :func:`mount_app` writes both
under ``<data>/ogc/<pack hash>/``: each vector layer is exported once to GeoJSON (CRS84)
with ``accuracy`` and ``source`` on every feature, and each collection's metadata carries
the layer's accuracy (official / indicative / demonstration), positional accuracy and
source (document, data set or construction method) in its description and keywords, so
QGIS shows them beside the layer. One pack per server process, as ``zoning serve`` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoning.core import vocab
from zoning.core.context import source_of
from zoning.core.layers import Pack, read_layer
from zoning.core.manifest import atomic_write_text


def _describe(spec: Any) -> str:
    acc = vocab.ACCURACY_LABELS.get(spec.accuracy, (spec.accuracy, spec.accuracy))
    parts = [f"accuracy: {spec.accuracy} ({acc[0]})"]
    if spec.positional_accuracy_m:
        parts.append(f"positional accuracy about {spec.positional_accuracy_m:g} m")
    src = source_of(spec.provenance)
    if src:
        parts.append(f"source: {src}")
    method = spec.provenance.get("method")
    if method:
        parts.append(f"method: {method}")
    if spec.accuracy != vocab.OFFICIAL:
        parts.append("not an official outline")
    return "; ".join(parts)


def write_config(pack: Pack, folder: Path, base_url: str, pack_hash: str) -> tuple[Path, Path]:
    """Export the layers and write pygeoapi's configuration and OpenAPI document; returns their paths."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    resources: dict[str, Any] = {}
    for spec in pack.layers:
        if spec.kind == vocab.RASTER:
            continue
        target = folder / f"{spec.name}.geojson"
        gdf = read_layer(pack, spec.name)
        if gdf.geometry is None or gdf.crs is None:
            continue
        gdf = gdf.to_crs("EPSG:4326").reset_index(drop=True)
        if not len(gdf):  # pygeoapi's GeoJSON provider reads its fields from the first feature
            continue
        if not target.exists():
            out = gdf.assign(fid=range(len(gdf)), accuracy=spec.accuracy, source=source_of(spec.provenance))
            scratch = folder / f".tmp-{os.getpid()}"  # the file's stem is the collection's name inside it
            scratch.mkdir(exist_ok=True)
            out.to_file(scratch / target.name, driver="GeoJSON")
            (scratch / target.name).replace(target)
            scratch.rmdir()
        sited = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
        bbox = [float(v) for v in sited.total_bounds] if len(sited) else [112.0, 35.0, 113.6, 36.1]
        resources[spec.name] = {
            "type": "collection",
            "title": spec.title or spec.name,
            "description": _describe(spec),
            "keywords": [spec.kind, spec.accuracy, f"pack:{pack.name}"],
            "links": [],
            "extents": {"spatial": {"bbox": bbox, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "GeoJSON", "data": str(target), "id_field": "fid"}],
        }
    cfg = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": 0},
            "url": f"{base_url}/ogc",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "language": "zh-CN",
            "limits": {"default_items": 100, "max_items": 10000},
            "map": {"url": "", "attribution": ""},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": f"{pack.title} ({pack.name})", "description":
                               f"zoning pack {pack.name}, hash {pack_hash[:12]}: layers with their accuracy and source",
                               "keywords": ["zoning", "晋城市"], "keywords_type": "theme", "terms_of_service": "",
                               "url": base_url},
            "license": {"name": "see the pack's provenance per layer", "url": base_url},
            "provider": {"name": "zoning", "url": base_url},
            "contact": {"name": "", "position": "", "address": "", "city": "晋城市", "stateorprovince": "山西省",
                        "postalcode": "", "country": "CN", "phone": "", "email": "", "url": base_url, "hours": "",
                        "instructions": "", "role": "pointOfContact"},
        },
        "resources": resources,
    }
    config = folder / "pygeoapi.yml"
    atomic_write_text(config, yaml.safe_dump(cfg, allow_unicode=True))
    from pygeoapi.openapi import generate_openapi_document

    with config.open(encoding="utf-8") as fh:
        doc = generate_openapi_document(fh, "yaml")
    openapi = folder / "openapi.yml"
    atomic_write_text(openapi, doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True))
    return config, openapi


def mount_app(pack: Pack, data_dir: Path, base_url: str, pack_hash: str) -> Any:
    """pygeoapi's Starlette application over the pack's layers (configured once per process)."""
    config, openapi = write_config(pack, data_dir / "ogc" / pack_hash[:16], base_url, pack_hash)
    os.environ["PYGEOAPI_CONFIG"] = str(config)
    os.environ["PYGEOAPI_OPENAPI"] = str(openapi)
    from pygeoapi import starlette_app

    starlette_app.APP.debug = False  # pygeoapi builds it with debug=True: no tracebacks to clients
    return starlette_app.APP
