"""The derivation grid: a CRS, a north-up transform and a size, walked by windows of rows.

Shared by the pipeline (:mod:`zoning.derive.pipeline`) and the demonstration-data generator
(:mod:`zoning.demo.groundwater`), which lays its inputs out on the grid the pipeline will use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

__all__ = ["Grid"]


@dataclass(frozen=True)
class Grid:
    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def res(self) -> float:
        return float(self.transform.a)

    @property
    def cell_km2(self) -> float:
        return self.res * self.res / 1e6

    @property
    def cells(self) -> int:
        return self.width * self.height

    def window_transform(self, row_off: int) -> Affine:
        t = self.transform
        return Affine(t.a, 0.0, t.c, 0.0, t.e, t.f + row_off * t.e)

    def windows(self, rows: int) -> Iterator[tuple[int, int]]:
        for r in range(0, self.height, rows):
            yield r, min(rows, self.height - r)

    @classmethod
    def from_bounds(cls, crs: CRS, bounds, res: float) -> Grid:
        """Bounds snapped outward to multiples of the resolution."""
        minx, miny, maxx, maxy = bounds
        x0 = np.floor(minx / res) * res
        y1 = np.ceil(maxy / res) * res
        w = int(np.ceil((maxx - x0) / res))
        h = int(np.ceil((y1 - miny) / res))
        return cls(crs, Affine(res, 0.0, float(x0), 0.0, -res, float(y1)), w, h)


def tiff_profile(grid: Grid, dtype: str, nodata: float | int | None) -> dict:
    """The profile of a one-band GeoTIFF on ``grid``: tiled 256 × 256, deflate (predictor 2
    for floats), the grid's CRS and transform."""
    return dict(
        driver="GTiff",
        width=grid.width,
        height=grid.height,
        count=1,
        dtype=dtype,
        crs=grid.crs.to_wkt(),
        transform=grid.transform,
        nodata=nodata,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        predictor=2 if dtype == "float32" else 1,
        zlevel=1,
    )
