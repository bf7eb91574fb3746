"""Render the notebooks as Markdown pages under docs/notebooks/, readable before installing anything.

Each notebook in notebooks/ is run top to bottom on the bundled synthetic sample (nbclient, a real
kernel), its plotly figures drawn as PNG (kaleido, with the system Chromium), and written as
``docs/notebooks/<name>.md`` with its pictures in ``docs/notebooks/<name>_files/``. A widget cannot be
drawn outside Jupyter: its output becomes the screenshot the browser test (tests/test_jupyterlab.py)
saves of that widget in JupyterLab, ``docs/img/widget-<kind>.png``. ``make docs`` runs this;
tests/test_notebooks.py fails when a notebook's code differs from its page.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "docs" / "notebooks"
# widget class -> its screenshot under docs/img/
WIDGETS = {
    "FunnelWidget": "funnel",
    "AgentWidget": "agents",
    "TimeoutWidget": "timeouts",
    "ChangesWidget": "changes",
}
_WIDGET_REPR = re.compile(r"^(\w+Widget)\(")
# the widget each notebook shows, where its output names only the box around it
NOTEBOOK_WIDGET = {
    "01-quickstart": "funnel",
    "02-funnel": "funnel",
    "03-agents": "agents",
    "04-timeouts": "timeouts",
    "06-what-changed": "changes",
}


def _widget_picture(output: dict, stem: str) -> dict | None:
    """A Markdown output showing the screenshot of the widget ``output`` displays, if it is one of ours."""
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" not in data:
        return None
    match = _WIDGET_REPR.match(str(data.get("text/plain", "")))
    kind = WIDGETS.get(match.group(1)) if match else NOTEBOOK_WIDGET.get(stem)
    if kind is None:
        return None
    text = (
        f"![The {kind} widget in JupyterLab](../img/widget-{kind}.png)\n\n"
        f"*The {kind} widget, as the browser test leaves it in JupyterLab (a live widget needs a running "
        "kernel: open the notebook in JupyterLab to use it).*"
    )
    return nbformat.v4.new_output("display_data", data={"text/markdown": text})


def render(path: Path) -> Path:
    """Run one notebook and write its Markdown page; return the page's path."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        extra_arguments=["--InteractiveShell.colors=nocolor"],
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    for cell in nb.cells:
        outputs = []
        for output in cell.get("outputs", []):
            picture = _widget_picture(output, path.stem)
            if picture is not None:
                output = picture
            elif "image/png" in output.get("data", {}):
                # the figure's picture, not the table its result also offers as HTML
                output["data"].pop("text/html", None)
            outputs.append(output)
        cell["outputs"] = outputs
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{path.stem}_files"}
    )
    files = OUT / f"{path.stem}_files"
    shutil.rmtree(files, ignore_errors=True)
    for name, data in resources.get("outputs", {}).items():
        target = OUT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    page = OUT / f"{path.stem}.md"
    head = (
        f"<!-- rendered from notebooks/{path.name} by `make docs` (docs/render_notebooks.py); "
        "do not edit -->\n\n"
        f"*`notebooks/{path.name}`, run on the bundled **synthetic** sample. Open it in JupyterLab "
        "(`make lab`) to change the code and use the widgets.*\n\n"
    )
    page.write_text(head + body, encoding="utf-8")
    return page


def main() -> int:
    """Render every notebook; print the pages written."""
    from chatanalytics.export import find_browser

    # figures as PNG (kaleido draws them with the system Chromium)
    os.environ["PLOTLY_RENDERER"] = "png"
    os.environ.setdefault("BROWSER_PATH", find_browser())
    OUT.mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        print(render(path).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
