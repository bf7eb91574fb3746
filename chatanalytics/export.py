"""Save figures and results: HTML, plotly JSON, PNG / SVG / PDF (kaleido + Chromium), CSV and Parquet.

The format comes from the file suffix. Static images are rendered by kaleido in one persistent headless
Chromium, started on first use, reused by every later export and stopped at exit. The browser is the
system one (``BROWSER_PATH``, or chromium / chrome on the ``PATH`` or in the usual places); nothing is
ever downloaded.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._csv import write_csv
from .errors import ExportError, InvalidParameterError
from .io._atomic import replacing

__all__ = ["FIGURE_FORMATS", "FORMATS", "TABLE_FORMATS", "find_browser", "save", "save_all"]

#: Suffixes written from the figure.
FIGURE_FORMATS: tuple[str, ...] = (".html", ".json", ".png", ".svg", ".pdf")
#: Suffixes written from ``obj.frame()``.
TABLE_FORMATS: tuple[str, ...] = (".csv", ".parquet")
#: Every suffix :func:`save` understands.
FORMATS: tuple[str, ...] = FIGURE_FORMATS + TABLE_FORMATS
_STATIC = (".png", ".svg", ".pdf")
_BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_BROWSER_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/snap/bin/chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
_NO_BROWSER = (
    "PNG, SVG and PDF export needs Chromium or Chrome, and none was found{detail}. "
    "Install it (Debian/Ubuntu: `apt-get install chromium`) or set BROWSER_PATH to the browser's executable. "
    "HTML and JSON export work without a browser."
)
_lock = threading.Lock()
_server: dict[str, Any] = {"running": False, "browser": None}


def find_browser() -> str:
    """The Chromium or Chrome executable kaleido will use.

    ``BROWSER_PATH`` wins when set (and must point at an executable file); otherwise chromium / chrome on
    the ``PATH``, then the usual install locations.

    Returns
    -------
    str
        Path to the executable.

    Raises
    ------
    ExportError
        When no browser is found, saying how to install one.
    """
    env = os.environ.get("BROWSER_PATH")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise ExportError(_NO_BROWSER.format(detail=f" (BROWSER_PATH={env!r} is not an executable file)"))
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in _BROWSER_PATHS:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ExportError(_NO_BROWSER.format(detail=""))


def _start_server() -> None:
    """Start the one kaleido server (a persistent Chromium) on first use; stop it at exit."""
    with _lock:
        if _server["running"]:
            return
        browser = find_browser()
        import kaleido
        import plotly.io as pio

        mathjax = getattr(pio.defaults, "mathjax", None)
        # MathJax comes from a CDN by default; use it only when pointed at a local file (offline exports)
        local_mathjax = mathjax if isinstance(mathjax, str) and os.path.isfile(mathjax) else False
        try:
            kaleido.start_sync_server(silence_warnings=True, path=browser, mathjax=local_mathjax)
        except Exception as exc:  # kaleido / choreographer raise their own types
            raise ExportError(f"could not start Chromium ({browser}) for static export: {exc}") from exc
        _server.update(running=True, browser=browser)
        atexit.register(_stop_server)


def _stop_server() -> None:
    with _lock:
        if not _server["running"]:
            return
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)
        _server.update(running=False, browser=None)


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidParameterError(
            "path", str(path), FORMATS, reason=f"unknown format {suffix or '(no suffix)'!r}"
        )
    return suffix


def _figure(obj: Any) -> Any:
    from plotly.basedatatypes import BaseFigure

    if isinstance(obj, BaseFigure):
        return obj
    make = getattr(obj, "figure", None)
    if callable(make):
        fig = make()
        if isinstance(fig, BaseFigure):
            return fig
    raise InvalidParameterError(
        "obj", type(obj).__name__, reason="expected a plotly Figure or an object with a .figure() method"
    )


def _sized(fig: Any, width: int | None, height: int | None) -> Any:
    import plotly.graph_objects as go

    out = go.Figure(fig)  # a copy: never change the caller's figure
    if width is not None or height is not None:
        out.update_layout(
            **({"width": width} if width is not None else {}),
            **({"height": height} if height is not None else {}),
        )
    return out


def save(
    obj: Any,
    path: str | os.PathLike[str],
    *,
    scale: float = 1,
    width: int | None = None,
    height: int | None = None,
    safe: bool = True,
) -> Path:
    """Save a figure or a result; the format comes from the suffix of ``path``.

    Parameters
    ----------
    obj : plotly Figure, or an object with ``.figure()`` (and ``.frame()`` for tables)
        What to save.
    path : str or path-like
        ``.html`` (self-contained: plotly.js embedded, works offline), ``.json`` (plotly JSON),
        ``.png`` / ``.svg`` / ``.pdf`` (kaleido with the system Chromium), ``.csv`` / ``.parquet``
        (``obj.frame()``).
    scale : float, default 1
        Pixel scale of static images (2 for sharp PNGs on high-density screens).
    width, height : int, optional
        Figure size in pixels; the figure's own size (or plotly's default) otherwise.
    safe : bool, default True
        For ``.csv``: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
        gets a leading ``'`` so that spreadsheets show it as text instead of running it as a formula
        (rows end in CRLF, so a field holding a line break is quoted). ``False`` writes the text as it
        is. Parquet is always written as it is.

    Returns
    -------
    pathlib.Path
        ``path``, the file written, as a Path.

    Raises
    ------
    InvalidParameterError
        Unknown suffix (the message lists the formats), or ``obj`` has no figure / table.
    ExportError
        No browser for static images (install ``chromium`` or set ``BROWSER_PATH``), or rendering failed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import plotly.graph_objects as go
    >>> from chatanalytics.export import save
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save(go.Figure(go.Bar(y=[1, 2])), pathlib.Path(d) / "bars.html")
    ...     "plotly" in p.read_text()
    True
    """
    target = Path(path)
    suffix = _suffix(target)
    if suffix in TABLE_FORMATS:
        frame = getattr(obj, "frame", None)
        if not callable(frame):
            raise InvalidParameterError(
                "obj", type(obj).__name__, reason=f"{suffix} needs an object with a .frame() method"
            )
        table = frame()
        if suffix == ".csv" and not isinstance(safe, bool):
            raise InvalidParameterError("safe", safe, [True, False])
        if suffix == ".csv":
            write_csv(table, target, safe=safe)  # whole or not at all, as every file here
        else:
            with replacing(target) as temp:  # a full disk leaves no partial file
                table.to_parquet(temp, index=False)
        return target
    fig = _sized(_figure(obj), width, height)
    if suffix in (".html", ".json"):
        with replacing(target) as temp:
            if suffix == ".html":
                fig.write_html(temp, include_plotlyjs=True, full_html=True)
            else:
                fig.write_json(temp)
    else:
        _start_server()
        try:
            with warnings.catch_warnings(), replacing(target) as temp:
                # plotly passes kopts on every call while a kaleido server runs
                warnings.filterwarnings("ignore", message="The kopts argument is ignored")
                fig.write_image(temp, format=suffix[1:], scale=scale)
        except (ExportError, OSError):
            raise
        except Exception as exc:
            raise ExportError(f"could not render {target.name}: {exc}") from exc
    return target


def save_all(
    objs: Mapping[str, Any] | Iterable[Any],
    directory: str | os.PathLike[str],
    formats: Iterable[str] = ("png",),
    *,
    scale: float = 1,
    width: int | None = None,
    height: int | None = None,
) -> list[Path]:
    """Save several figures or results into ``directory``, sharing one browser for static images.

    Parameters
    ----------
    objs : dict of name -> object, or a sequence of objects
        A sequence is named ``figure-1``, ``figure-2``, ...
    directory : str or path-like
        Created when missing.
    formats : iterable of str, default ("png",)
        Suffixes with or without the dot (``"png"``, ``".html"``, ``"csv"``).
    scale, width, height
        As in :func:`save`.

    Returns
    -------
    list of pathlib.Path
        The files written, by object then format.
    """
    out_dir = Path(directory)
    suffixes = ["." + str(f).lower().lstrip(".") for f in formats]
    for s in suffixes:
        if s not in FORMATS:
            raise InvalidParameterError("formats", s.lstrip("."), [f.lstrip(".") for f in FORMATS])
    named = (
        list(objs.items())
        if isinstance(objs, Mapping)
        else [(f"figure-{i}", o) for i, o in enumerate(objs, start=1)]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(s in _STATIC for s in suffixes) and named:
        _start_server()
    return [
        save(obj, out_dir / f"{name}{s}", scale=scale, width=width, height=height)
        for name, obj in named
        for s in suffixes
    ]
