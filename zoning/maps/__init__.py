"""Interactive HTML maps of a layer pack (folium / Leaflet).

:func:`build_map` returns a :class:`folium.Map`; saving it is the caller's business
(``zoning map`` saves it). :func:`add_sites` draws user sites coloured by verdict on any
map, so the batch check can reuse the builder.

What a map carries
------------------
- one switchable overlay per layer (counties, 中心城市规划区, 中心城区 with its land-supply
  quota, groundwater protection and control zones styled by class and level, key
  projects counted per county, user sites), a legend explaining every colour, a metric
  scale bar and a title with the pack name and date;
- popups and tooltips with Chinese (or English) attribute labels, the accuracy of the
  layer, and for zones the rules that apply (文号 + 条 + effect);
- a click-anywhere query computed in the page, with no server, that gives what
  :func:`zoning.query.query_point` gives: the county (with the near-line caution), the
  planning extents, the zones, the governing classes, the applicable rules and the
  verdict for the project a planner describes in the panel's form (and the verdict of each
  subject), with the producing articles and the attributes to confirm; the planning
  extents as yes / no / uncertain (an indicative outline: the rules of a class the point
  may lie in are possibly applying until the project states its membership); the
  land-supply plan and whether it is in force on the date; each layer's accuracy in words.
  The industry is typed as a GB/T 4754-2017 code or name or a word, and read from a table
  :func:`zoning.maps.payload.industries_payload` precomputes with ``validate_project``.
  ``ZoningMap.query(lat, lng, project, date)`` returns the same as a plain object.

One vocabulary: the page's script spells no zone class, verdict or label. It receives
:func:`zoning.core.vocab.for_script`, the rules as JSON (:mod:`zoning.maps.payload`) and
the project attributes they read in its configuration; the overlap principles and the rule
evaluation are ports of :mod:`zoning.core.verdicts` and :func:`zoning.core.rules.evaluate_rule`,
held to them by the browser parity tests.

Honesty: layers whose accuracy is ``indicative`` or ``demonstration`` are drawn dashed
(demonstration also hatched) and say so in the layer switcher, the legend and every popup.
Key projects have no published coordinates: they are shown as a per-county count badge
that says so, never as a site pin.

Safety: every string from a layer or a user file reaches the page as JSON (with ``<``,
``>``, ``&`` and U+2028/2029 escaped) and is put into the DOM with ``textContent``; layer
names given to Leaflet's layer control are HTML-escaped.

Size and precision: the page answers on the geometry it draws, so that geometry is kept
precise enough: zones and extents simplified by about 2 m (topology kept), counties not
simplified, coordinates rounded to 5 decimals (about 1 m). See :mod:`zoning.maps.geometry`.

Offline: ``offline=True`` inlines Leaflet's JS and CSS (with its images as data URIs)
from the installed ``XStatic-Leaflet`` package; nothing is fetched at run time. With
``basemap="none"`` the page needs no network at all.

Modules: :mod:`~zoning.maps.build` (build_map and the layers), :mod:`~zoning.maps.sites`,
:mod:`~zoning.maps.payload` (what the script is given), :mod:`~zoning.maps.page` (UI
strings, assets, the script element), :mod:`~zoning.maps.geometry`; the script and its
styles are ``static/zoning_map.js`` and ``static/zoning_map.css``.
"""

from zoning.maps.build import BASEMAPS, build_map, default_map_layers
from zoning.maps.geometry import json_for_script
from zoning.maps.page import leaflet_inline_assets
from zoning.maps.sites import add_sites, normalise_verdict, read_sites

__all__ = [
    "BASEMAPS",
    "add_sites",
    "build_map",
    "default_map_layers",
    "json_for_script",
    "leaflet_inline_assets",
    "normalise_verdict",
    "read_sites",
]
