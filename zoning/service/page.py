"""The map at ``/``: ``zoning map``'s map, with the service's panel.

The page is :func:`zoning.maps.build_map` (offline: Leaflet inlined, no basemap, so it
opens on an intranet with no internet) plus one element of this module: a panel whose
click query, search, permalink, print view, upload and batch drawing go to the API. The
map's own click query still runs in the page for its layer cards and project form; the
service panel shows the server's answer (``/api/v1/query``), which is the one audited.
Every string reaches the page as JSON for a script (``json_for_script``) and the DOM
through ``textContent``.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from zoning.core import vocab
from zoning.core.layers import Pack
from zoning.maps import build_map, json_for_script

STATIC = Path(__file__).parent / "static"

UI: dict[str, tuple[str, str]] = {
    "title": ("服务查询", "Service query"),
    "search": ("搜索: 坐标 / 县区 / 重点工程 / 核查项目编号", "Search: coordinates / county / key project / site id"),
    "go": ("查找", "Find"),
    "hint": ("点击地图或搜索, 由服务器答复并记录", "Click the map or search; the server answers and logs it"),
    "answer_id": ("答复编号", "Answer id"),
    "permalink": ("永久链接", "Permalink"),
    "print": ("打印", "Print"),
    "county": ("县级行政区", "County"),
    "outside": ("晋城市以外", "outside 晋城市"),
    "zones": ("地下水分区", "Groundwater zones"),
    "none": ("无", "none"),
    "verdict": ("结论", "Verdict"),
    "rules": ("条款", "Articles"),
    "projects": ("附近重点工程", "Key projects nearby"),
    "accuracy": ("精度", "Accuracy"),
    "upload": ("上传批量核查", "Upload a batch check"),
    "submit": ("提交", "Submit"),
    "jobs": ("我的核查任务", "My check jobs"),
    "draw": ("绘制", "Draw"),
    "no_results": ("未找到", "nothing found"),
    "error": ("错误", "Error"),
    "planning": (vocab.PLANNING_AREA, vocab.PLANNING_AREA),
    "central": (vocab.CENTRAL_AREA, vocab.CENTRAL_AREA),
    "user": ("用户", "User"),
    "changed": ("数据包或答复已变化", "The pack or the answer has changed"),
}


def _config(lang: str, user: str, role: str, pack_info: dict[str, str]) -> dict[str, Any]:
    i = 0 if lang == "zh" else 1
    return {"lang": lang, "api": "/api/v1", "user": user, "role": role, "pack": pack_info,
            "ui": {k: v[i] for k, v in UI.items()},
            "verdict_colours": dict(vocab.VERDICT_COLOURS)}  # an uploaded batch's sites drawn by verdict


_MAPS: dict[tuple[str, str], str] = {}
_LOCK = threading.Lock()


def _map_html(pack: Pack, lang: str) -> str:
    """``zoning map --offline --basemap none`` for the pack, built once per language."""
    key = (str(pack.path), lang)
    with _LOCK:
        if key not in _MAPS:
            m = build_map(pack, lang=lang, offline=True, basemap="none")  # type: ignore[arg-type]
            _MAPS[key] = m.get_root().render()
        return _MAPS[key]


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    """The page's stylesheet and script, read once per process."""
    return (STATIC / "service.css").read_text(encoding="utf-8"), (STATIC / "service.js").read_text(encoding="utf-8")


def render_page(pack: Pack, lang: str, user: str, role: str, pack_info: dict[str, str]) -> str:
    """The HTML of ``/`` for this user (the map itself is built once per language)."""
    html = _map_html(pack, lang)
    css, js = _assets()
    cfg = json_for_script(_config(lang, user, role, pack_info))
    tail = (f"<style>{css}</style>\n<script>{js}\nZoningService.init({cfg});</script>\n")
    head, sep, end = html.rpartition("</html>")  # after folium's scripts, which follow </body>
    return head + tail + sep + end if sep else html + tail
