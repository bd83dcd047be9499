"""Shared fixtures: the shipped pack, a CLI runner, small layers built in code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoning.core import settings
from zoning.core.layers import open_pack, read_layer

REPO = Path(__file__).resolve().parent.parent
PACK_DIR = REPO / "layers" / "jincheng"


@pytest.fixture(scope="session")
def pack():
    return open_pack(PACK_DIR)


@pytest.fixture(scope="session")
def counties(pack):
    return read_layer(pack, "counties")


@pytest.fixture
def pack_copy(tmp_path):
    """A writable copy of the shipped pack (without the gazette sources)."""
    dst = tmp_path / "pack"
    shutil.copytree(PACK_DIR, dst, ignore=shutil.ignore_patterns("sources"))
    return dst


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(autouse=True)
def _default_pack(monkeypatch):
    monkeypatch.setattr(settings, "default_pack", PACK_DIR)
