"""pyproject.toml and environment.yml must list the same dependencies and the same Python,
and the Python they declare must be the one the code needs."""

from __future__ import annotations

import ast
import re
import tomllib

from conftest import REPO

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
    assert {
        "geopandas",
        "shapely",
        "pyproj",
        "rasterio",
        "folium",
        "click",
        "pyogrio",
        "openpyxl",
        "tqdm",
    } <= pyproject_names()


def test_console_script_declared():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["zoning"] == "zoning.cli.main:main_group"


# ----------------------------------------------------------------------------- Python version

#: Standard-library modules and syntax that fix a minimum Python, with the version that brought them.
#: The declared minimum must be the highest of these that the package uses.
STDLIB_SINCE: dict[str, tuple[int, int]] = {
    "tomllib": (3, 11),
    "zoneinfo": (3, 9),
    "graphlib": (3, 9),
}

# TEMPORARY, to empty: files of other engineers that still carry a fallback for a Python older than
# the declared minimum (dead code). Remove an entry once its file drops the fallback.
PENDING_FALLBACKS: set[str] = set()


def _declared_minimum() -> tuple[int, int]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    m = re.fullmatch(r">=\s*(\d+)\.(\d+)", data["project"]["requires-python"].strip())
    assert m, data["project"]["requires-python"]
    return int(m.group(1)), int(m.group(2))


def _package_files():
    return sorted((REPO / "zoning").rglob("*.py"))


def _imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _version_checks(tree: ast.AST) -> list[tuple[int, tuple[int, int]]]:
    """(line, version) of every ``sys.version_info >= (X, Y)`` / ``< (X, Y)`` comparison."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Attribute)
            and node.left.attr == "version_info"
            and isinstance(node.comparators[0], ast.Tuple)
        ):
            parts = node.comparators[0].elts[:2]
            if all(isinstance(e, ast.Constant) and isinstance(e.value, int) for e in parts):
                found.append((node.lineno, tuple(e.value for e in parts)))
    return found


def test_declared_python_is_the_same_everywhere():
    major, minor = _declared_minimum()
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    versions = {
        tuple(int(x) for x in c.rsplit(" ", 1)[1].split("."))
        for c in data["project"]["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert min(versions) == (major, minor), sorted(versions)
    env = (REPO / "environment.yml").read_text(encoding="utf-8")
    assert re.search(rf"^\s*-\s*python>={major}\.{minor}\s*$", env, re.M), "environment.yml: python>= differs"
    assert data["tool"]["ruff"]["target-version"] == f"py{major}{minor}"
    assert data["tool"]["mypy"]["python_version"] == f"{major}.{minor}"
    assert not any(
        r.split(";")[0].strip().startswith("tomli>") or r.strip() == "tomli" for r in data["project"]["dependencies"]
    ), "tomli is only needed before 3.11"


def test_declared_minimum_is_what_the_code_needs():
    """Every module parses as the declared minimum's grammar, nothing it imports is newer, and
    the minimum is not higher than the newest thing it uses (so it is the true minimum)."""
    declared = _declared_minimum()
    needed: dict[tuple[int, int], list[str]] = {}
    too_new = []
    for path in _package_files():
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=rel, feature_version=declared)  # SyntaxError: newer grammar
        for name in _imported_modules(tree):
            since = STDLIB_SINCE.get(name)
            if since:
                needed.setdefault(since, []).append(f"{rel} ({name})")
                if since > declared:
                    too_new.append(f"{rel} imports {name} (Python {since[0]}.{since[1]})")
    assert not too_new, too_new
    assert needed, "nothing fixes the minimum Python any more: lower requires-python"
    assert max(needed) == declared, f"the code needs Python {max(needed)}: {needed[max(needed)][:3]}"


def test_no_fallbacks_for_older_pythons():
    """No branch for a Python below the declared minimum (such as ``import tomli``): it cannot run."""
    declared = _declared_minimum()
    dead = []
    for path in _package_files():
        rel = path.relative_to(REPO).as_posix()
        if rel in PENDING_FALLBACKS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        dead += [f"{rel}:{line} checks Python {v}" for line, v in _version_checks(tree) if v <= declared]
        if "tomli" in _imported_modules(tree):
            dead.append(f"{rel} imports tomli")
    assert not dead, dead
    stale = []
    for rel in PENDING_FALLBACKS:
        path = REPO / rel
        tree = ast.parse(path.read_text(encoding="utf-8")) if path.exists() else None
        if tree is None or not (_version_checks(tree) or "tomli" in _imported_modules(tree)):
            stale.append(rel)
    assert not stale, f"no fallback left: remove from PENDING_FALLBACKS: {stale}"
