"""The public API of ``import zoning``: every name in ``__all__`` resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import zoning


def test_every_public_name_resolves():
    for name in zoning.__all__:
        value = getattr(zoning, name)
        assert callable(value), name
    assert sorted(zoning.__all__) == sorted(set(zoning.__all__))
    assert set(zoning.__all__) <= set(dir(zoning))


def test_star_import_gives_the_public_names():
    namespace: dict = {}
    exec("from zoning import *", namespace)
    assert set(zoning.__all__) <= set(namespace)


def test_names_come_from_their_modules():
    from zoning.core.context import load_context
    from zoning.core.layers import open_pack
    from zoning.query import query_point

    assert zoning.query_point is query_point
    assert zoning.open_pack is open_pack
    assert zoning.load_context is load_context


def test_derive_is_callable_whichever_import_came_first():
    """``zoning.derive`` is also a subpackage; the name runs the derivation either way."""
    import zoning.derive.steps  # noqa: F401  (binds the package to zoning.derive)
    from zoning.derive.pipeline import derive

    assert callable(zoning.derive)
    # the function itself, or the (callable) package that holds it
    assert getattr(zoning.derive, "derive", zoning.derive) is derive
    assert callable(sys.modules["zoning.derive"])


def test_import_zoning_does_not_load_geopandas():
    code = "import sys, zoning, zoning.cli.main; print('geopandas' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout


def test_unknown_name_is_an_attribute_error():
    try:
        zoning.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("zoning.no_such_thing resolved")
