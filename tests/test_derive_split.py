"""zoning.derive.pipeline after its run was split into one function per step: an input that
fails after the rasters are open closes them, and no function grows back past two screens."""

import shutil
from pathlib import Path

import pytest

from zoning.core.errors import InputFileError
from zoning.demo import groundwater as demo
from zoning.derive import derive, pipeline
from zoning.derive.config import load_config

RES = 1000.0


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "inputs"
    demo.generate(d, resolution=RES, write_config=True)
    return d


@pytest.mark.parametrize(
    "line, missing",
    [
        ('protection = "protection.gpkg"', 'protection = "nope.gpkg"'),  # after every raster
        ('P = "cop_P.tif"', 'P = "nope.tif"'),  # a raster, after others opened
        ('counties = "counties.gpkg"', 'counties = "nope.gpkg"'),  # the last input
    ],
)
def test_a_failing_input_closes_the_rasters_opened_before_it(demo_dir, tmp_path, monkeypatch, line, missing):
    d = tmp_path / "in"
    shutil.copytree(demo_dir, d)
    cfg = d / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    assert line in text
    cfg.write_text(text.replace(line, missing), encoding="utf-8")
    opened, closed = [], []
    init, close = pipeline.RasterInput.__init__, pipeline.RasterInput.close

    def counting_init(self, *a, **k):
        init(self, *a, **k)
        opened.append(self.name)

    def counting_close(self):
        closed.append(self.name)
        close(self)

    monkeypatch.setattr(pipeline.RasterInput, "__init__", counting_init)
    monkeypatch.setattr(pipeline.RasterInput, "close", counting_close)
    with pytest.raises(InputFileError, match="nope"):
        derive(cfg, tmp_path / "out")
    assert opened and sorted(closed) == sorted(opened)
    assert not (tmp_path / "out").exists()


def _open_files_under(folder: Path) -> list[str]:
    """The files under ``folder`` this process holds open (Linux: /proc/self/fd)."""
    import os

    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            out.append(target)
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_run_that_fails_in_a_window_closes_its_maps(demo_dir, tmp_path, monkeypatch):
    """A window that fails (a class code no class has, say) leaves no map GeoTIFF open: the
    13 output files stayed open, and the run's folder could not be removed on Windows."""
    calls = []
    real = pipeline.compute_window

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the second window fails")
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "compute_window", failing)
    cfg = load_config(demo_dir / "config.toml")
    cfg.window_rows = 3
    try:
        derive(cfg, tmp_path / "out")
    except RuntimeError as exc:  # checked while the failure is in hand (its frames hold what they opened)
        assert "second window" in str(exc)
        assert _open_files_under(tmp_path) == []
    else:
        pytest.fail("the run did not fail")
    assert len(calls) == 2
    assert not (tmp_path / "out").exists()
