"""Documented defaults.

default_crs : str
    CRS of a coordinate given without ``--crs``: CGCS2000 geographic (EPSG:4490),
    the official datum of the layers.
area_crs : str
    Projected CRS for areas and distances. 晋城市 spans 111.9-113.6 E, across the
    112.5 E boundary of two 3-degree Gauss-Kruger zones, so no single GK zone fits it;
    an Albers equal-area projection on the CGCS2000 ellipsoid centred on the city
    keeps areas exact and distances within 0.1 % everywhere in it.
city_bounds : tuple
    Loose lon/lat box of 晋城市 (CGCS2000) used for plausibility checks of input
    coordinates, before the county layer decides.
default_pack : Path
    The shipped Jincheng layer pack (``layers/jincheng`` in a checkout); override with
    the ``ZONING_PACK`` environment variable or ``--pack``.
"""

from __future__ import annotations

import os
from pathlib import Path

default_crs: str = "EPSG:4490"

# Albers equal-area on CGCS2000, standard parallels bracketing the city (35.2-36.1 N),
# central meridian through it. Used for every area (ha, 亩) and distance figure.
area_crs: str = (
    "+proj=aea +lat_0=35.65 +lon_0=112.75 +lat_1=35.3 +lat_2=36.0 "
    "+x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs +type=crs"
)

city_adcode: str = "140500"
city_bounds: tuple[float, float, float, float] = (111.9, 35.2, 113.6, 36.1)

def _default_pack() -> Path:
    """``ZONING_PACK``; else the checkout's ``layers/jincheng`` (an editable install); else
    ``layers/jincheng`` below the working directory (a plain ``pip install`` run from a
    checkout, as the README's commands are)."""
    if os.environ.get("ZONING_PACK"):
        return Path(os.environ["ZONING_PACK"])
    beside = Path(__file__).resolve().parents[2] / "layers" / "jincheng"
    return beside if (beside / "manifest.toml").exists() else Path.cwd() / "layers" / "jincheng"


default_pack: Path = _default_pack()

#: Sites read and checked at a time (a reader's chunk is one check batch): memory stays bounded.
DEFAULT_CHUNKSIZE: int = 50_000
#: The bounds of a chunk (``--chunksize``, a job's ``chunksize``): below, the per-chunk work
#: dominates; above, a chunk's results alone take gigabytes.
CHUNKSIZE_RANGE = (100, 1_000_000)

SQM_PER_HA: float = 10_000.0
SQM_PER_MU: float = 10_000.0 / 15.0
