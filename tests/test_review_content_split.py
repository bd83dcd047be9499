"""The review's sections as build_review assembles them, for the cases the shipped pack and
the report tests do not reach: the accuracy statement of a pack whose layers are all
official or only indicative, and the opinion and notes of a site that could not be checked."""

from __future__ import annotations

import copy
import dataclasses

import geopandas as gpd
import pytest
from shapely.geometry import Point

from zoning.check import build_context, check_sites
from zoning.core import vocab
from zoning.core.provenance import provenance
from zoning.outputs.review import build_reviews


@pytest.fixture(scope="module")
def checked():
    ctx = build_context(None)
    sites = gpd.GeoDataFrame(
        {"site_name": ["in a control zone", "far away"]},
        geometry=[Point(113.357138, 35.665727), Point(116.4, 39.9)],
        crs="EPSG:4490",
    )
    return ctx, check_sites(sites, context=ctx)


def _with_accuracy(ctx, accuracy: dict[str, str]):
    """The context with its layers' accuracy changed (``{old: new}``)."""
    context = copy.copy(ctx.context)
    context.layers_used = [
        dataclasses.replace(lu, accuracy=accuracy.get(lu.accuracy, lu.accuracy)) for lu in ctx.context.layers_used
    ]
    out = copy.copy(ctx)
    out.context = context
    return out


def _reviews(ctx, res, lang="en"):
    return build_reviews(ctx, res, provenance(ctx.context, on_date=ctx.on_date, input_text="t"), lang=lang)


def test_the_shipped_pack_warns_of_demonstration_data(checked):
    ctx, res = checked
    rv = _reviews(ctx, res)[0]
    assert rv.demonstration and rv.accuracy_statement[0].startswith("IMPORTANT")
    # the zone layers are demonstration data: the review says so even if the row did not
    assert _reviews(ctx, res.assign(demonstration_basis=False))[0].demonstration
    non_official = [lu for lu in ctx.context.layers_used if lu.accuracy != vocab.OFFICIAL]
    assert len(rv.accuracy_statement) == 1 + len(non_official)


def test_official_layers_need_no_statement(checked):
    ctx, res = checked
    official = _with_accuracy(ctx, {vocab.DEMONSTRATION: vocab.OFFICIAL, vocab.INDICATIVE: vocab.OFFICIAL})
    rv = _reviews(official, res.assign(demonstration_basis=False))[0]
    assert rv.accuracy_statement == [] and not rv.demonstration
    assert len(rv.accuracy_rows) == len(ctx.context.layers_used)


def test_indicative_layers_get_the_milder_note(checked):
    ctx, res = checked
    indicative = _with_accuracy(ctx, {vocab.DEMONSTRATION: vocab.INDICATIVE})
    rv = _reviews(indicative, res.assign(demonstration_basis=False), lang="zh")[0]
    assert not rv.demonstration
    assert rv.accuracy_statement[0].startswith("提示")
    assert all("边界附近的归属需核实" in s for s in rv.accuracy_statement[1:])


def test_a_site_not_checked_says_why_and_no_verdict(checked):
    ctx, res = checked
    checked_rv, far = _reviews(ctx, res)
    assert far.verdict == vocab.NOT_CHECKED
    assert far.opinion == [f"The site could not be checked: {far.status}"]
    assert not any(n.startswith("Input note") for n in far.notes)
    assert checked_rv.verdict != vocab.NOT_CHECKED and len(checked_rv.opinion) == 2
    assert checked_rv.opinion[1] == f"Verdict: {checked_rv.verdict_label}."
