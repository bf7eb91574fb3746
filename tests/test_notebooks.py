"""Every notebook runs top to bottom on the bundled sample (nbclient, a real kernel)."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path):
    import nbformat  # imported where used: jsonschema's import costs seconds in every test process
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    stored = [c for c in nb.cells if c.cell_type == "code" and c.get("outputs")]
    assert not stored, "notebooks are stored without outputs"
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        extra_arguments=["--InteractiveShell.colors=nocolor"],
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert outputs, "the notebook showed nothing"
    if path.name == "01-quickstart.ipynb":
        text = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
        assert "LoadReport:" in text and "duplicates" in text
        assert "Funnel (ordered, per conversation session, window 30min)" in text
        kinds = {k for o in outputs for k in o.get("data", {})}
        assert "application/vnd.plotly.v1+json" in kinds  # the funnel result shows its figure
        assert "application/vnd.jupyter.widget-view+json" in kinds  # and its widget
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert any(m["model_module"] == "anywidget" for m in state.values())  # the FigureWidget
    if path.name == "05-your-data.ipynb":
        text = "\n".join(
            str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in outputs
        )
        assert "adobe_feed" in text  # the Data Feed archive was read
        assert "rows are aggregated counts per day from ga4_explore_csv" in text  # the funnel refused
        assert "1231" in text  # 1,204 + 27 triggered, summed from the report rows
    if path.name == "03-agents.ipynb":
        text = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
        # the tables for reading: rates as percentages, headers in words
        tables = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
        assert "Acceptance rate (95% low)" in tables and "acceptance_rate_low" not in tables
        assert "Agent performance:" in text and "two_accepts" in text
        kinds = [k for o in outputs for k in o.get("data", {})]
        assert kinds.count("application/vnd.plotly.v1+json") >= 4  # leaderboard, violin, heatmap, load
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert any(m["model_module"] == "anywidget" for m in state.values())  # the FigureWidget
        assert (path.parent / "out" / "agents.png").stat().st_size > 10_000
    if path.name == "04-timeouts.ipynb":
        text = "\n".join(
            str(o.get("data", {}).get("text/plain", "")) + str(o.get("data", {}).get("text/html", ""))
            for o in outputs
        )
        assert "Live-chat timeouts:" in text and "all groups" in text
        kinds = [k for o in outputs for k in o.get("data", {})]
        assert kinds.count("application/vnd.plotly.v1+json") >= 6
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert any(m["model_module"] == "anywidget" for m in state.values())
        assert (path.parent / "out" / "timeouts.png").stat().st_size > 10_000


DOCS = ROOT / "docs" / "notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_its_page_readable_before_install(path):
    """docs/notebooks/<name>.md is the notebook run and rendered by `make docs`: every code cell of the
    notebook as it is now, its figures as pictures that exist, and its widgets as screenshots."""
    page = DOCS / f"{path.stem}.md"
    assert page.exists(), f"run `make docs`: {page.name} is missing"
    text = page.read_text(encoding="utf-8")
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.source.strip() in text, f"stale: run `make docs` ({cell.source[:60]!r})"
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    figures = [c for c in nb.cells if c.cell_type == "code" and ".figure(" in c.source]
    assert len(pictures) >= len(figures), "a figure is missing from the page"
    for picture in pictures:
        assert (page.parent / picture).resolve().exists(), picture
    widgets = [c for c in nb.cells if c.cell_type == "code" and "widget(" in c.source]
    assert text.count("../img/widget-") >= len(widgets)
