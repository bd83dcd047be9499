"""zoning.versions: the diff of the shipped pack and a copy with known edits reports exactly those
(tests/versions_edits.py), through the API and `zoning layers diff`."""

from __future__ import annotations

import json

import pyogrio
import pytest
from click.testing import CliRunner

from versions_edits import (
    ADDED,
    MOVED,
    QUOTA_AFTER,
    QUOTA_BEFORE,
    QUOTA_CLASS,
    REMOVED,
    RULE,
    SHIPPED,
    copy_pack,
    edited_pack,
)
from zoning.cli.main import main_group
from zoning.core.layers import open_pack
from zoning.core.version import pack_version
from zoning.versions.diff import diff_packs


@pytest.fixture(scope="module")
def new_pack(tmp_path_factory):
    return edited_pack(tmp_path_factory.mktemp("packs") / "jincheng-2026.2")


@pytest.fixture(scope="module")
def diff(new_pack):
    return diff_packs(SHIPPED, new_pack)


def test_shipped_pack_has_a_version_and_a_content_hash():
    v = pack_version(open_pack(SHIPPED))
    assert v.version == "2026.1" and v.released.isoformat() == "2026-11-25"
    assert len(v.content_sha256) == 64 and set(v.layers) == {s.name for s in open_pack(SHIPPED).layers}


def test_a_copy_has_the_same_hash_and_no_difference(tmp_path):
    copy = copy_pack(tmp_path / "copy")
    assert pack_version(open_pack(copy)).content_sha256 == pack_version(open_pack(SHIPPED)).content_sha256
    d = diff_packs(SHIPPED, copy)
    assert d.same and not d.rules and not d.quota and "相同" in d.to_text()


def test_layers_report_exactly_the_edits(diff):
    ctl, prot = diff.layers["groundwater_control"], diff.layers["groundwater_protection"]
    assert [c.feature_id for c in ctl.added] == [ADDED] and not ctl.removed
    assert [c.feature_id for c in ctl.changed] == [MOVED]
    moved = ctl.changed[0]
    assert moved.geometry_changed and not moved.fields
    # a pure shift: the area gained equals the area lost, both the zone's area at most
    assert moved.gained_km2 == pytest.approx(moved.lost_km2, rel=1e-6) and moved.gained_km2 > 0.1
    assert [c.feature_id for c in prot.removed] == [REMOVED] and not prot.added and not prot.changed
    quota = diff.layers["land_supply_quota"]
    assert [c.fields for c in quota.changed] == [(f"ha_{QUOTA_CLASS}",)]
    for name in ("counties", "planning_extents", "key_projects"):
        assert diff.layers[name].is_same, name


def test_rules_and_quota_report_exactly_the_edits(diff):
    assert [(r.rule_id, r.kinds) for r in diff.rules] == [(RULE, ("period",))]
    assert diff.rules[0].before == "2024-01-18–2029-01-17" and diff.rules[0].after == "2024-01-18–2025-06-30"
    assert [(q.item, q.before, q.after) for q in diff.quota] == [(QUOTA_CLASS, QUOTA_BEFORE, QUOTA_AFTER)]


def test_json_and_files_of_the_cli(new_pack, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main_group, ["layers", "diff", str(SHIPPED), str(new_pack), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["layers"]["groundwater_control"]["added"] == 1
    assert doc["layers"]["groundwater_control"]["changed"] == 1
    assert doc["layers"]["groundwater_protection"]["removed"] == 1
    assert doc["layers"]["counties"]["added"] == doc["layers"]["counties"]["changed"] == 0
    assert doc["rules"]["period_changed"] == 1 and doc["rules"]["added"] == 0
    assert doc["new"]["version"] == "2026.2" and doc["old"]["version"] == "2026.1"
    gpkg, page = tmp_path / "changes.gpkg", tmp_path / "changes.html"
    res = runner.invoke(main_group, ["layers", "diff", str(SHIPPED), str(new_pack), "--lang", "en",
                                     "--gpkg", str(gpkg), "--html", str(page)])
    assert res.exit_code == 0, res.output
    assert "GW-C2-900 (二级管控区) added" in res.output and "period in force changed" in res.output
    areas = pyogrio.read_dataframe(gpkg, layer="changes")
    got = sorted(zip(areas["feature_id"], areas["change"]))
    assert got == sorted([(ADDED, "added"), (REMOVED, "removed"), (MOVED, "gained"), (MOVED, "lost"),
                          ("2025-中心城区", "attributes")])
    text = page.read_text(encoding="utf-8")
    assert "GW-C2-900" in text and "unpkg" not in text and "cdn.jsdelivr" not in text  # offline
    res = runner.invoke(main_group, ["layers", "diff", str(SHIPPED), str(new_pack), "--gpkg", str(gpkg)])
    assert res.exit_code == 2  # never overwrites without --overwrite


def test_key_project_lists_are_matched_by_name(tmp_path):
    from zoning.versions.projects import compare_projects

    df = pyogrio.read_dataframe(SHIPPED / "jincheng.gpkg", layer="key_projects")
    c = compare_projects(df[df.year == 2024], df[df.year == 2025])
    counts = c.counts()
    assert counts["old"] == 198 and counts["new_list"] == 208
    assert counts["continuing"] + counts["dropped"] == 198 and counts["continuing"] + counts["new"] == 208
    pairs = {(m.old_name, m.new_name) for m in c.continuing}
    # small wording changes are tolerated, and shown
    assert ("晋阳高速公路改扩建项目", "晋阳高速公路改扩建工程") in pairs
    assert ("协西羊泉煤业兼并重组整合项目", "协希羊泉煤业兼并重组整合项目") in pairs
    # different figures are different projects
    assert not any(a.startswith("山西兴高60万吨") for a, _ in pairs)
    m = next(m for m in c.continuing if m.new_name == "台头化工园区基础设施项目")
    assert m.changes == {"level": ("市重点", "省重点"), "category": ("产业转型", "基础设施类")}


def test_a_rewritten_raster_gets_a_new_hash(tmp_path):
    """The raster hash is keyed by the file's state: a raster rewritten in place is not served
    its old hash for the life of the process (the old cache was keyed by path alone)."""
    from zoning.core.version import layer_sha256

    (tmp_path / "manifest.toml").write_text(
        '[pack]\nname = "p"\n[[layers]]\nname = "r"\nkind = "raster"\nfile = "r.tif"\ncrs = "EPSG:4490"\n'
        'accuracy = "demonstration"\nprovenance = { method = "x" }\n',
        encoding="utf-8",
    )
    (tmp_path / "r.tif").write_bytes(b"first raster bytes")
    pack = open_pack(tmp_path)
    before = layer_sha256(pack, pack.layers[0])
    (tmp_path / "r.tif").write_bytes(b"second raster, other bytes")
    assert layer_sha256(pack, pack.layers[0]) != before
