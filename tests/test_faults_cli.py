"""Faults of the command line found by "Nothing lost, nothing wrong": the rules catalogue,
pack writes, derive --overwrite, secrets, exit codes. Each test failed before its fix.

The corpus cases at the end run through :func:`test_fault_corpus.run_case` (no traceback,
the exit code the README documents, one ``Error`` line).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from test_fault_corpus import HEADER, LAT, LON, Case, _csv, run_case
from zoning.cli.main import main_group

REPO = Path(__file__).resolve().parent.parent
PACK_DIR = REPO / "layers" / "jincheng"
ZONING = str(Path(sys.executable).with_name("zoning"))
SITES = _csv(HEADER, f"示例,{LON},{LAT},新建")


def _error_line(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert lines, "no output"
    errors = [ln for ln in lines if ln.startswith("Error")]
    assert len(errors) == 1, output
    return errors[0]


# --------------------------------------------------------------------------- 1. the rules catalogue


def test_shipped_manifest_lists_every_rule_file_with_its_hash():
    import tomllib

    head = tomllib.loads((PACK_DIR / "manifest.toml").read_text(encoding="utf-8"))["pack"]
    files = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in (PACK_DIR / "rules").glob("*.toml")}
    assert files and head["rule_files"] == files


def _broken_rules(pack_copy: Path, how: str) -> None:
    rules = pack_copy / "rules"
    if how == "missing":
        shutil.rmtree(rules)
    elif how == "empty":
        for f in rules.glob("*.toml"):
            f.unlink()
    elif how == "altered":
        f = sorted(rules.glob("*.toml"))[0]
        f.write_text(f.read_text(encoding="utf-8").replace("prohibited", "allowed", 1) + "\n#\n", encoding="utf-8")
    elif how == "one gone":
        sorted(rules.glob("*.toml"))[-1].unlink()
    elif how == "extra":
        (rules / "zz_extra.toml").write_text("schema_version = 1\n", encoding="utf-8")
    elif how == "unlisted":
        text = (pack_copy / "manifest.toml").read_text(encoding="utf-8")
        start = text.index("[pack.rule_files]")
        end = text.index("[[layers]]")
        (pack_copy / "manifest.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    elif how == "no catalogue":
        text = (pack_copy / "manifest.toml").read_text(encoding="utf-8")
        (pack_copy / "manifest.toml").write_text(text.replace('rules = "rules"\n', "", 1), encoding="utf-8")


BROKEN = ["missing", "empty", "altered", "one gone", "extra", "unlisted", "no catalogue"]


@pytest.mark.parametrize("how", BROKEN)
@pytest.mark.parametrize(
    "command",
    [
        ["query", "112.85", "35.49", "--pack", "{pack}"],
        ["layers", "validate", "{pack}"],
        ["layers", "show", "{pack}"],
        ["layers", "list", "--pack", "{pack}"],
        ["check", "{tmp}/sites.csv", "--pack", "{pack}", "--out", "{tmp}/out", "--format", "csv", "--no-progress"],
        ["map", "--pack", "{pack}", "-o", "{tmp}/m.html"],
    ],
    ids=["query", "validate", "show", "list", "check", "map"],
)
def test_a_pack_without_its_whole_catalogue_is_an_error(runner, pack_copy, tmp_path, how, command):
    """Before: a missing or empty rules folder answered "clear" with exit 0 and `layers validate`
    said "0 rules: ok ... valid"; an altered rule file went unnoticed."""
    _broken_rules(pack_copy, how)
    (tmp_path / "sites.csv").write_bytes(SITES)
    args = [a.replace("{pack}", str(pack_copy)).replace("{tmp}", str(tmp_path)) for a in command]
    result = runner.invoke(main_group, args)
    assert result.exit_code == 1, result.output
    assert "rules" in result.output and "valid\n" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "m.html").exists()


def test_derive_with_a_pack_without_rules_is_an_error(pack_copy, tmp_path, monkeypatch):
    """derive reads the county layer from the pack: a pack without its rules is refused there too."""
    from zoning.core import settings
    from zoning.core.errors import NoCountyLayerError
    from zoning.derive.counties import pack_counties

    _broken_rules(pack_copy, "empty")
    monkeypatch.setattr(settings, "default_pack", pack_copy)
    with pytest.raises(NoCountyLayerError, match="rules"):
        pack_counties()


def test_rehash_records_a_deliberate_edit(runner, pack_copy):
    _broken_rules(pack_copy, "altered")
    assert runner.invoke(main_group, ["layers", "validate", str(pack_copy)]).exit_code == 1
    result = runner.invoke(main_group, ["layers", "rehash", str(pack_copy)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main_group, ["layers", "list", "--pack", str(pack_copy)]).exit_code == 0


def test_the_intact_copy_still_answers(runner, pack_copy):
    result = runner.invoke(main_group, ["layers", "validate", str(pack_copy)])
    assert result.exit_code == 0 and "rules, as the manifest lists them: ok" in result.output, result.output


# --------------------------------------------------------------------------- 2. pack writes


def _zones_file(path: Path, counties, code: str, shift: float = 0.0) -> Path:
    poly = counties.loc[counties.adcode == code].to_crs(4547).geometry.iloc[0]
    c = poly.representative_point()
    geoms = [Polygon([(c.x + shift, c.y), (c.x + shift + 500, c.y), (c.x + shift + 500, c.y + 500),
                      (c.x + shift, c.y + 500)])]
    gdf = gpd.GeoDataFrame({"zone_class": ["一级管控区"], "county": [code], "zone_id": ["Z1"]}, geometry=geoms, crs=4547)
    gdf.to_file(path, driver="GeoJSON")
    return path


def test_two_concurrent_imports_keep_both_layers(pack_copy, tmp_path, counties):
    """Before: both read the manifest, each wrote it back with only its own layer added."""
    files = [_zones_file(tmp_path / f"z{i}.geojson", counties, "140525", shift=2000.0 * i) for i in range(2)]
    procs = [
        subprocess.Popen(
            [ZONING, "layers", "import", str(f), "--kind", "groundwater_control", "--name", f"bureau_{i}",
             "--pack", str(pack_copy), "--accuracy", "indicative"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for i, f in enumerate(files)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    from zoning.core.layers import open_pack, read_layer

    pack = open_pack(pack_copy)
    names = [s.name for s in pack.layers]
    assert "bureau_0" in names and "bureau_1" in names
    assert len(read_layer(pack, "bureau_0")) == 1 and len(read_layer(pack, "bureau_1")) == 1
    leftovers = [p.name for p in pack_copy.iterdir() if ".tmp" in p.name]
    assert not leftovers


def test_concurrent_imports_in_threads(pack_copy, tmp_path, counties):
    import threading

    from zoning.core.layers import open_pack
    from zoning.inputs.importer import import_layer

    files = [_zones_file(tmp_path / f"t{i}.geojson", counties, "140525", shift=2000.0 * i) for i in range(3)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            import_layer(open_pack(pack_copy), files[i], kind="groundwater_control", name=f"thread_{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = {s.name for s in open_pack(pack_copy).layers}
    assert {"thread_0", "thread_1", "thread_2"} <= names


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".hidden", "x\\y", "has space", "-dash", "a" * 65, ""])
def test_unsafe_layer_names_are_refused(runner, pack_copy, tmp_path, counties, name):
    f = _zones_file(tmp_path / "z.geojson", counties, "140525")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(main_group, ["layers", "import", str(f), "--kind", "groundwater_control", "--name", name,
                                        "--pack", str(pack_copy)])
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert "escape" not in {p.stem for p in tmp_path.iterdir()}


def test_library_refuses_unsafe_names(pack_copy, tmp_path, counties):
    from zoning.core.errors import UsageError
    from zoning.core.layers import open_pack
    from zoning.inputs.importer import import_layer

    f = _zones_file(tmp_path / "z.geojson", counties, "140525")
    with pytest.raises(UsageError):
        import_layer(open_pack(pack_copy), f, kind="groundwater_control", name="../../x")


def test_default_name_from_an_odd_file_name_is_made_safe(runner, pack_copy, tmp_path, counties):
    f = _zones_file(tmp_path / "my zones (v2).geojson", counties, "140525")
    result = runner.invoke(main_group, ["layers", "import", str(f), "--kind", "groundwater_control",
                                        "--pack", str(pack_copy)])
    assert result.exit_code == 0, result.output
    assert (pack_copy / "my_zones__v2_.gpkg").exists()


def test_manifest_write_uses_a_unique_temporary_name(tmp_path):
    """Before: every writer used manifest.toml.tmp, so two writers tore each other's file."""
    from zoning.core import manifest

    seen: list[str] = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    head = {"name": "p"}
    orig = manifest.os.replace
    manifest.os.replace = spy
    try:
        manifest.write_manifest(tmp_path, head, [])
        manifest.write_manifest(tmp_path, head, [])
    finally:
        manifest.os.replace = orig
    assert len(seen) == 2 and seen[0] != seen[1] and "manifest.toml.tmp" not in seen
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.toml"]


# --------------------------------------------------------------------------- 3. derive --overwrite


@pytest.fixture(scope="module")
def derive_inputs(tmp_path_factory):
    from zoning.demo import groundwater

    d = tmp_path_factory.mktemp("demo") / "inputs"
    groundwater.generate(d, resolution=1000.0, write_config=True)
    return d


def test_overwrite_never_empties_a_folder_it_did_not_write(runner, derive_inputs, tmp_path):
    """Before: --overwrite deleted the whole folder, the user's files (and config) included."""
    out = tmp_path / "mine"
    shutil.copytree(derive_inputs, out)  # the config and its inputs live in the folder given as --out
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    cfg = out / "config.toml"
    before = sorted(p.name for p in out.iterdir())
    result = runner.invoke(main_group, ["derive", str(cfg), "--out", str(out), "--overwrite"])
    assert result.exit_code == 1, result.output
    assert "not written by `zoning derive`" in _error_line(result.output)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me" and cfg.exists()
    assert sorted(p.name for p in out.iterdir()) == before


def test_overwrite_replaces_only_what_the_last_run_wrote(runner, derive_inputs, tmp_path):
    out = tmp_path / "out"
    cfg = str(derive_inputs / "config.toml")
    first = runner.invoke(main_group, ["derive", cfg, "--out", str(out)])
    assert first.exit_code == 0, first.output
    marker = json.loads((out / ".zoning-derive.json").read_text(encoding="utf-8"))
    assert "zones.gpkg" in marker["written"]
    (out / "my_notes.txt").write_text("mine", encoding="utf-8")
    (out / "class_areas.csv").write_text("stale", encoding="utf-8")
    again = runner.invoke(main_group, ["derive", cfg, "--out", str(out), "--overwrite"])
    assert again.exit_code == 0, again.output
    assert (out / "my_notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "class_areas.csv").read_text(encoding="utf-8-sig") != "stale"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_overwrite_refuses_a_marker_that_points_outside(runner, derive_inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("x", encoding="utf-8")
    (out / ".zoning-derive.json").write_text(json.dumps({"written": ["../victim.txt"]}), encoding="utf-8")
    result = runner.invoke(main_group, ["derive", str(derive_inputs / "config.toml"), "--out", str(out),
                                        "--overwrite"])
    assert result.exit_code == 1 and victim.exists(), result.output


@pytest.mark.parametrize(
    "edit,key",
    [
        ('[grid]\n', "[grid] resolutoin"),
        ("", "colour"),
        ('[zones]\n', "[zones] min_area"),
        ('[classes]\n', "[classes] drastic_brakes"),
    ],
)
def test_derive_rejects_unknown_config_keys(runner, derive_inputs, tmp_path, edit, key):
    cfg = tmp_path / "config.toml"
    text = (derive_inputs / "config.toml").read_text(encoding="utf-8")
    name = key.split("] ")[-1]
    line = f"{name} = 1\n"
    if edit:
        lines = text.splitlines(keepends=True)
        at = next((i for i, ln in enumerate(lines) if ln.startswith(edit.strip())), None)
        if at is None:
            text += f"\n{edit}{line}"
        else:
            lines.insert(at + 1, line)
            text = "".join(lines)
    else:
        text = line + text
    cfg.write_text(text, encoding="utf-8")
    result = runner.invoke(main_group, ["derive", str(cfg), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1, result.output
    line_out = _error_line(result.output)
    assert name in line_out and str(cfg) in line_out
    assert not (tmp_path / "o").exists()


def test_sigterm_removes_the_temporary_output(derive_inputs, tmp_path):
    """Before: SIGTERM killed derive mid-run and left .out.tmp-* behind (SIGINT cleaned up)."""
    out = tmp_path / "out"
    proc = subprocess.Popen([ZONING, "derive", str(derive_inputs / "config.toml"), "--out", str(out), "--map"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".out.tmp-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.tmp-*")), "derive never started writing"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert not list(tmp_path.glob(".out.tmp-*")) and not out.exists()


# --------------------------------------------------------------------------- 4. secrets


def test_password_in_query_string_is_not_printed(runner, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "envsecret42")
    dsn = "postgresql://u@127.0.0.1:1/db?password=qsecret42&schema=x"
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--pack", dsn])
    assert result.exit_code == 1
    assert "qsecret42" not in result.output and "envsecret42" not in result.output
    assert "password=***" in result.output


def test_userinfo_password_is_not_printed_by_push(runner):
    result = runner.invoke(main_group, ["layers", "push", str(PACK_DIR), "postgresql://u:topsecret9@127.0.0.1:1/db"])
    assert result.exit_code == 1 and "topsecret9" not in result.output
    _error_line(result.output)


def test_redact_every_form():
    from zoning.core.postgis import redact

    for dsn in ("postgresql://u:pw1234@h/db", "postgresql://u@h/db?password=pw1234",
                "postgresql://u@h/db?sslmode=require&sslpassword=pw1234&schema=s"):
        assert "pw1234" not in redact(dsn) and "***" in redact(dsn)
    assert redact("postgresql://u@h/db?schema=s") == "postgresql://u@h/db?schema=s"


def test_connections_get_a_connect_timeout(monkeypatch):
    import psycopg

    from zoning.core import postgis

    seen: dict = {}

    def fake(conninfo, **kwargs):
        seen.update(kwargs, conninfo=conninfo)
        raise psycopg.OperationalError("refused")

    monkeypatch.setattr(psycopg, "connect", fake)
    monkeypatch.delenv("PGCONNECT_TIMEOUT", raising=False)
    with pytest.raises(postgis.PostgisError):
        postgis.connect("postgresql://u@h/db")
    assert seen["connect_timeout"] == postgis.CONNECT_TIMEOUT
    seen.clear()
    with pytest.raises(postgis.PostgisError):
        postgis.connect("postgresql://u@h/db?connect_timeout=3")
    assert "connect_timeout" not in {k for k in seen if k != "conninfo"} and "connect_timeout=3" in seen["conninfo"]


def test_unknown_libpq_option_is_one_line(runner):
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--pack",
                                        "postgresql://u:pw9999@127.0.0.1:1/db?colour=red"])
    assert result.exit_code == 1 and "pw9999" not in result.output
    assert "colour" in _error_line(result.output)


def test_cache_metadata_has_no_password(tmp_path, monkeypatch):
    """The local cache of a PostGIS pack records the DSN redacted (query-string passwords too)."""
    from zoning.core import postgis

    rules = {f"rules/{f.name}": f.read_text(encoding="utf-8") for f in (PACK_DIR / "rules").glob("*.toml")}
    manifest = (PACK_DIR / "manifest.toml").read_text(encoding="utf-8")

    class Conn:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(postgis, "connect", lambda dsn, **kw: Conn())
    monkeypatch.setattr(postgis, "_manifest_rows", lambda conn, schema: {"manifest.toml": manifest, **rules})
    monkeypatch.setenv("ZONING_CACHE_DIR", str(tmp_path))
    pack = postgis.open_pack("postgresql://u@h/db?password=cachesecret&schema=s")
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert "cachesecret" not in text and "cachesecret" not in str(pack.path)
    assert "cachesecret" not in str(pack.meta)


# --------------------------------------------------------------------------- 5. exit codes and one-liners


def test_unexpected_exception_is_one_line_and_debug_shows_it(runner, monkeypatch):
    import zoning.query

    def boom(*a, **k):
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setattr(zoning.query, "query_point", boom)
    result = runner.invoke(main_group, ["query", "112.85", "35.49"])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    line = _error_line(result.output)
    assert "kaboom second line" in line and "--debug" in line and "Traceback" not in result.output
    result = runner.invoke(main_group, ["--debug", "query", "112.85", "35.49"])
    assert result.exit_code == 1 and "Traceback" in result.output and "kaboom" in result.output


def test_missing_optional_dependency_names_the_extra(runner, monkeypatch, tmp_path):
    """A plain ``pip install zoning`` without an extra: the command says which extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ModuleNotFoundError
    result = runner.invoke(main_group, ["query", "112.85", "35.49", "--format", "pdf", "-o", str(tmp_path / "r.pdf")])
    line = _error_line(result.output)
    assert result.exit_code == 1 and "'report' extra" in line and "pip install 'zoning[report]'" in line
    assert "Traceback" not in result.output and not (tmp_path / "r.pdf").exists()
    # a batch is refused before any file is written, not half written then failed site by site
    site = str(REPO / "examples" / "review_site.geojson")
    result = runner.invoke(main_group, ["check", site, "--out", str(tmp_path / "a"), "--format", "csv,docx",
                                        "--no-progress"])
    assert result.exit_code == 1 and "pip install 'zoning[report]'" in _error_line(result.output)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    monkeypatch.setitem(sys.modules, "ezdxf", None)
    result = runner.invoke(main_group, ["check", site, "--out", str(tmp_path / "b"), "--pieces",
                                        "--pieces-format", "gpkg,dxf", "--no-progress"])
    assert result.exit_code == 1 and "pip install 'zoning[cad]'" in _error_line(result.output)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = runner.invoke(main_group, ["serve", "--port", "0"])
    assert result.exit_code == 1 and "pip install 'zoning[serve]'" in _error_line(result.output)
    # a module that belongs to no extra is an unexpected error, reported as one
    import zoning.query

    def boom(*a, **k):
        raise ModuleNotFoundError("No module named 'nowhere'", name="nowhere")

    monkeypatch.setattr(zoning.query, "query_point", boom)
    line = _error_line(runner.invoke(main_group, ["query", "112.85", "35.49"]).output)
    assert "ModuleNotFoundError" in line and "--debug" in line and "extra" not in line


def test_a_closed_pipe_is_no_error(tmp_path):
    """``zoning query ... | head -1``: the reader leaves early; no 'Broken pipe' error, no traceback."""
    proc = subprocess.Popen([ZONING, "query", "112.85", "35.49"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command writes a byte
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.wait(timeout=60)
    assert "Broken pipe" not in err and "Traceback" not in err and "Error" not in err, err


def test_fifo_input_is_refused_quickly(tmp_path):
    fifo = tmp_path / "sites.csv"
    os.mkfifo(fifo)
    for args in (["check", str(fifo), "--out", str(tmp_path / "o"), "--no-progress"],
                 ["query", "112.85", "35.49", "--project-file", str(fifo)],
                 ["layers", "import", str(fifo), "--kind", "groundwater_control", "--pack", str(tmp_path)],
                 ["derive", str(fifo)],
                 ["map", "--sites", str(fifo), "-o", str(tmp_path / "m.html")]):
        t0 = time.monotonic()
        proc = subprocess.run([ZONING, *args], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "FIFO" in proc.stderr and "Traceback" not in proc.stderr
        assert time.monotonic() - t0 < 30


def test_unreachable_dask_scheduler_is_one_line(runner, tmp_path):
    (tmp_path / "sites.csv").write_bytes(SITES)
    t0 = time.monotonic()
    result = runner.invoke(main_group, ["check", str(tmp_path / "sites.csv"), "--out", str(tmp_path / "o"),
                                        "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "scheduler" in _error_line(result.output) and time.monotonic() - t0 < 30


def test_check_o_does_not_overwrite_without_overwrite(runner, tmp_path):
    (tmp_path / "sites.csv").write_bytes(SITES)
    target = tmp_path / "result.csv"
    target.write_text("precious", encoding="utf-8")
    args = ["check", str(tmp_path / "sites.csv"), "-o", str(target), "--no-progress"]
    result = runner.invoke(main_group, args)
    assert result.exit_code == 2 and "--overwrite" in _error_line(result.output)
    assert target.read_text(encoding="utf-8") == "precious"
    result = runner.invoke(main_group, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "precious" not in target.read_text(encoding="utf-8-sig")


def test_gk3_easting_of_another_zone_is_a_usage_error(runner):
    result = runner.invoke(main_group, ["query", "39396566.25", "3930663.07", "--crs", "gk3"])
    assert result.exit_code == 2 and "gk3:39" in _error_line(result.output)
    result = runner.invoke(main_group, ["query", "38396566.25", "3930663.07", "--crs", "gk3"])
    assert result.exit_code == 0


def _sites(name: str = "sites.csv") -> dict[str, bytes]:
    return {name: SITES}


def _chk(name: str, extra: list[str], codes: tuple[int, ...], files: dict[str, bytes] | None = None) -> Case:
    args = ["check", "{tmp}/sites.csv", "--out", "{tmp}/out", "--format", "csv", "--no-progress", *extra]
    return Case("check " + name, args, codes, {**_sites(), **(files or {})}, rows=1 if codes == (0,) else None)


def _q(name: str, extra: list[str], codes: tuple[int, ...], files: dict[str, bytes] | None = None) -> Case:
    return Case("query " + name, ["query", "112.85", "35.49", *extra], codes, files or {})


GEOJSON_EMPTY = b'{"type":"FeatureCollection","features":[]}'
PACK_NO_RULES = b'[pack]\nname = "x"\nrules = "rules"\n[pack.rule_files]\n"a.toml" = "00"\n'

CASES = [
    # check: values on the command line (2)
    _chk("--set unknown attribute", ["--set", "colour=red"], (2,)),
    _chk("--set bad value", ["--set", "construction=maybe"], (2,)),
    _chk("--set bad number", ["--set", "total_investment_wan=lots"], (2,)),
    _chk("--set bad bool", ["--set", "discharges_pollutants=perhaps"], (2,)),
    _chk("--set good", ["--set", "construction=新建"], (0,)),
    _chk("--field unknown target", ["--field", "colour=项目名称"], (2,)),
    _chk("--field empty column", ["--field", "lon="], (2,)),
    _chk("--encoding unknown codec", ["--encoding", "klingon"], (2,)),
    _chk("--encoding gbk", ["--encoding", "gbk"], (0,), {"sites.csv": _csv(HEADER, f"示例,{LON},{LAT},新建", encoding="gbk")}),
    Case("check --out is a file", ["check", "{tmp}/sites.csv", "--out", "{tmp}/outfile", "--no-progress"], (2,),
         {**_sites(), "outfile": b"x"}),
    Case("check --out unwritable", ["check", "{tmp}/sites.csv", "--out", "/proc/zoning-out", "--no-progress"], (1,),
         _sites()),
    Case("check -o unwritable", ["check", "{tmp}/sites.csv", "-o", "/proc/zoning.csv", "--no-progress"], (1,),
         _sites()),
    Case("check -o under a file", ["check", "{tmp}/sites.csv", "-o", "{tmp}/sites.csv/x.csv", "--no-progress"], (2,),
         _sites()),
    Case("check -o existing file", ["check", "{tmp}/sites.csv", "-o", "{tmp}/r.csv", "--no-progress"], (2,),
         {**_sites(), "r.csv": b"old"}),
    Case("check -o a folder", ["check", "{tmp}/sites.csv", "-o", "{tmp}/d.csv", "--no-progress"], (2,),
         {**_sites(), "d.csv/.keep": b""}),
    Case("check SITES /dev/zero", ["check", "/dev/zero", "--out", "{tmp}/out", "--no-progress"], (2,)),
    Case("check SITES /dev/null", ["check", "/dev/null", "--out", "{tmp}/out", "--no-progress"], (2,)),
    Case("check dask scheduler unreachable", ["check", "{tmp}/sites.csv", "--out", "{tmp}/out", "--engine", "dask",
                                              "--scheduler", "tcp://127.0.0.1:1", "--no-progress"], (1,), _sites()),
    Case("check dask scheduler malformed", ["check", "{tmp}/sites.csv", "--out", "{tmp}/out", "--engine", "dask",
                                            "--scheduler", "nowhere", "--no-progress"], (2,), _sites()),
    Case("check corrupt pack manifest", ["check", "{tmp}/sites.csv", "--pack", "{tmp}/p", "--out", "{tmp}/out",
                                         "--no-progress"], (1,), {**_sites(), "p/manifest.toml": b"[pack\n"}),
    Case("check pack with missing rules", ["check", "{tmp}/sites.csv", "--pack", "{tmp}/p", "--out", "{tmp}/out",
                                           "--no-progress"], (1,), {**_sites(), "p/manifest.toml": PACK_NO_RULES}),
    # query
    _q("-a unknown bool value", ["-a", "discharges_pollutants=perhaps"], (2,)),
    _q("-a chinese label unknown value", ["-a", "建设性质=拆迁"], (2,)),
    _q("-a good", ["-a", "construction=new"], (0,)),
    _q("--project-file /dev/zero", ["--project-file", "/dev/zero"], (2,)),
    _q("--project-file a folder", ["--project-file", "{tmp}"], (2,)),
    _q("--project-file bad attribute", ["--project-file", "{tmp}/p.json"], (1,), {"p.json": b'{"colour": "red"}'}),
    _q("--pack empty dir", ["--pack", "{tmp}/e"], (1,), {"e/.keep": b""}),
    _q("--pack corrupt manifest", ["--pack", "{tmp}/c"], (1,), {"c/manifest.toml": b"[pack\nname="}),
    _q("--pack rules listed but missing", ["--pack", "{tmp}/r"], (1,), {"r/manifest.toml": PACK_NO_RULES}),
    _q("--pack dsn with unknown option", ["--pack", "postgresql://u@127.0.0.1:1/db?colour=red"], (1,)),
    _q("--pack dsn unreachable", ["--pack", "postgresql://u:pw@127.0.0.1:1/db"], (1,)),
    Case("query gk3 zone 37 far east", ["query", "37396566.25", "3930663.07", "--crs", "gk3"], (0, 2)),
    Case("query gk3 zone 40", ["query", "40396566.25", "3930663.07", "--crs", "gk3"], (2,)),
    Case("query gk6 zone 20", ["query", "20396566.25", "3930663.07", "--crs", "gk6"], (2,)),
    Case("query gk3 zone 39 explicit", ["query", "39396566.25", "3930663.07", "--crs", "gk3:39"], (0, 2)),
    # layers
    Case("validate empty pack dir", ["layers", "validate", "{tmp}/e"], (1,), {"e/.keep": b""}),
    Case("show corrupt manifest", ["layers", "show", "{tmp}/c"], (1,), {"c/manifest.toml": b"[pack\nname="}),
    Case("list corrupt manifest", ["layers", "list", "--pack", "{tmp}/c"], (1,), {"c/manifest.toml": b"[[["}),
    Case("validate manifest not utf-8", ["layers", "validate", "{tmp}/c"], (1,), {"c/manifest.toml": b"\xff\xfe[pack]"}),
    Case("validate rules listed but missing", ["layers", "validate", "{tmp}/r"], (1,), {"r/manifest.toml": PACK_NO_RULES}),
    Case("import --name ../x", ["layers", "import", "{tmp}/a.geojson", "--pack", "{tmp}/p", "--kind",
                                "groundwater_control", "--name", "../x"], (2,), {"a.geojson": GEOJSON_EMPTY}),
    Case("import --name with slash", ["layers", "import", "{tmp}/a.geojson", "--pack", "{tmp}/p", "--kind",
                                      "groundwater_control", "--name", "a/b"], (2,), {"a.geojson": GEOJSON_EMPTY}),
    Case("import --encoding unknown", ["layers", "import", "{tmp}/a.geojson", "--kind", "groundwater_control",
                                       "--encoding", "klingon"], (2,), {"a.geojson": GEOJSON_EMPTY}),
    Case("import --field unknown target", ["layers", "import", "{tmp}/a.geojson", "--kind", "groundwater_control",
                                           "--field", "colour=x"], (2,), {"a.geojson": GEOJSON_EMPTY}),
    Case("import FILE a folder", ["layers", "import", "{tmp}", "--kind", "groundwater_control"], (2,)),
    Case("import FILE /dev/zero", ["layers", "import", "/dev/zero", "--kind", "groundwater_control"], (2,)),
    Case("push dsn password in query", ["layers", "push", "layers/jincheng",
                                        "postgresql://u@127.0.0.1:1/db?password=s3cret"], (1,)),
    Case("push dsn unknown option", ["layers", "push", "layers/jincheng", "postgresql://u@127.0.0.1:1/db?foo=1"], (1,)),
    Case("push not a dsn", ["layers", "push", "layers/jincheng", "mysql://x"], (2,)),
    # map
    Case("map -o unwritable", ["map", "-o", "/proc/zoning-map.html"], (1,)),
    Case("map -o existing", ["map", "-o", "{tmp}/m.html"], (2,), {"m.html": b"old"}),
    Case("map -o a folder", ["map", "-o", "{tmp}/d"], (2,), {"d/.keep": b""}),
    Case("map --sites /dev/zero", ["map", "--sites", "/dev/zero", "-o", "{tmp}/m.html"], (2,)),
    Case("map --sites a folder", ["map", "--sites", "{tmp}", "-o", "{tmp}/m.html"], (2,)),
    Case("map corrupt pack", ["map", "--pack", "{tmp}/c", "-o", "{tmp}/m.html"], (1,), {"c/manifest.toml": b"[x"}),
    # derive
    Case("derive CONFIG a folder", ["derive", "{tmp}"], (2,)),
    Case("derive CONFIG /dev/zero", ["derive", "/dev/zero"], (2,)),
    Case("derive --out is a file", ["derive", "{tmp}/c.toml", "--out", "{tmp}/f"], (2,),
         {"c.toml": b"[grid]\n", "f": b"x"}),
    Case("derive --out unwritable", ["derive", "{tmp}/c.toml", "--out", "/proc/zoning-derive"], (1,),
         {"c.toml": b"[grid]\n"}),
    Case("derive unknown top-level key", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,),
         {"c.toml": b'colour = "red"\n[grid]\ncrs = "EPSG:4547"\n'}),
    Case("derive unknown grid key", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,),
         {"c.toml": b'[grid]\ncrs = "EPSG:4547"\nresolutoin = 100\n'}),
    Case("derive unknown inputs key", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o"], (1,),
         {"c.toml": b'[grid]\ncrs = "EPSG:4547"\n[inputs]\nabundancy = "a.tif"\n'}),
    Case("derive overwrite a user folder", ["derive", "{tmp}/c.toml", "--out", "{tmp}/o", "--overwrite"], (1,),
         {"c.toml": b'[grid]\ncrs = "EPSG:4547"\n', "o/mine.txt": b"keep"}),
    Case("derive not utf-8 config", ["derive", "{tmp}/c.toml"], (1,), {"c.toml": b"\xff\xfe\x00"}),
    # the group
    Case("unknown command", ["frobnicate"], (2,)),
    Case("debug flag with a usage error", ["--debug", "query", "abc", "35.49"], (2,)),
]


def test_this_corpus_is_large():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault_cli(case: Case, runner, tmp_path: Path):
    run_case(case, runner, tmp_path)
    if case.name == "derive overwrite a user folder":
        assert (tmp_path / "o" / "mine.txt").read_bytes() == b"keep"
    if case.name == "push dsn password in query":
        assert "s3cret" not in runner.invoke(main_group, case.args).output
