"""pyproject.toml and environment.yml must list the same dependencies."""

from __future__ import annotations

import re
import sys

from conftest import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"python": None, "pip": None, "distributed": None}  # distributed: the pip extra dask[distributed]


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\s\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_names() -> set[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs.extend(extra)
    return {_name(r) for r in reqs}


def environment_names() -> set[str]:
    names = set()
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    deps = text.split("dependencies:", 1)[1]
    for line in deps.splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)", line)
        if not m or line.strip().startswith("- pip:"):
            continue
        name = _name(m.group(1))
        name = CONDA_TO_PYPI.get(name, name)
        if name:
            names.add(name)
    return names


def test_dependency_lists_agree():
    py, env = pyproject_names(), environment_names()
    assert py - env == set(), f"in pyproject.toml only: {sorted(py - env)}"
    assert env - py == set(), f"in environment.yml only: {sorted(env - py)}"


def test_core_dependencies_present():
    assert {"geopandas", "shapely", "pyproj", "rasterio", "folium", "click", "pyogrio", "openpyxl", "tqdm"} <= pyproject_names()


def test_console_script_declared():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["zoning"] == "zoning.cli.main:main_group"
