"""Fonts for figure text: matplotlib's default plus a CJK font when one is installed.

Matplotlib (3.6 and later) falls back along a list of families glyph by glyph, so giving each
title ``[default, CJK font]`` draws Chinese, Japanese and Korean names and descriptions instead
of boxes. Nothing global changes: the list is passed to the text that needs it. Matplotlib's
font cache is written once and misses fonts installed afterwards (``apt-get install
fonts-noto-cjk`` on a machine that already ran matplotlib), so known CJK font files are added
to this process's font list when the cache has none.
"""

from __future__ import annotations

import functools
import re

from matplotlib import font_manager, rcParams

#: Families tried in this order; the first one installed is used.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Serif CJK SC",
    "Noto Serif CJK JP",
)
_CJK_FILES = re.compile(r"(NotoSansCJK|SourceHanSans|wqy-|msyh|simhei|PingFang|NotoSerifCJK)", re.I)


def _installed() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


@functools.lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """Return the name of an installed CJK font family, or None.

    Returns
    -------
    str or None
        The first of :data:`CJK_FAMILIES` that matplotlib can use.
    """
    names = _installed()
    if not names.intersection(CJK_FAMILIES):
        # A stale cache: add the CJK font files on the system to this process's list.
        for path in sorted(font_manager.findSystemFonts()):
            if _CJK_FILES.search(path):
                try:
                    font_manager.fontManager.addfont(path)
                except Exception:  # an unreadable font file is skipped, never fatal
                    continue
        names = _installed()
    return next((family for family in CJK_FAMILIES if family in names), None)


def text_families() -> list[str]:
    """Return the font families for figure text: the default one, then a CJK one if any.

    Returns
    -------
    list of str
        E.g. ``["DejaVu Sans", "Noto Sans CJK JP"]``, for ``fontfamily=``.
    """
    default = rcParams["font.family"]
    families = [default] if isinstance(default, str) else list(default)
    if families == ["sans-serif"]:
        families = list(rcParams["font.sans-serif"][:1])
    cjk = cjk_family()
    return [*families, cjk] if cjk and cjk not in families else families
