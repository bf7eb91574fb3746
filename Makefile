# chatanalytics: `make demo` runs the main job on the bundled sample, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE := data/sample-synthetic.jsonl.gz

.PHONY: demo test lint bench sample lab docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The dev install includes the Spark extra (the differential tests run every analysis on PySpark too) and
# the Avro extra (GA4 exports written as Avro).
# lifelines (the survival-curve test oracle) declares pandas<3 but runs on pandas 3: installed without
# its metadata's pins; its dependencies come with the dev extra.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,spark,avro]'
	$(BIN)/python -m pip install --quiet --no-deps 'lifelines==0.30.3'
	touch $@ $(VENV)/.installed

# the report, its CSVs, its charts as PNG and the canonical Parquet of the bundled sample, under $(OUT)/.
# The PNGs need Chromium: without one (and without BROWSER_PATH), as root with apt-get it is installed
# first, as .ci/run does; otherwise everything else is written and the last line says how to get them.
OUT ?= out
HAS_BROWSER = $(BIN)/python -c "from chatanalytics.export import find_browser; find_browser()" >/dev/null 2>&1
demo: $(VENV)/.installed
	@if ! $(HAS_BROWSER) && [ -z "$$BROWSER_PATH" ] && [ "$$(id -u 2>/dev/null)" = 0 ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium for the PNG charts (apt-get)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } \
	    || echo "could not install chromium: the PNG charts will be left out"; \
	fi
	@if $(HAS_BROWSER); then png="--png $(OUT)/charts"; else png=""; fi; \
	  set -x; $(BIN)/chatanalytics report $(SAMPLE) --tz America/New_York --out $(OUT) $$png
	$(BIN)/chatanalytics convert $(SAMPLE) --out $(OUT)/events.parquet
	@$(HAS_BROWSER) || echo "PNG charts not written: no Chromium found. Install it (Debian/Ubuntu: apt-get install chromium) or set BROWSER_PATH to its executable, then run make demo again."

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check chatanalytics tests benchmarks
	$(BIN)/mypy chatanalytics

# two workers (the machines have 2 cores; most tests use one); a test file runs whole in one worker, so
# its module fixtures (a Spark session, a browser, a JupyterLab server) are made once. The suite starts
# hundreds of Python processes (the command line, kernels, killed writers): compiled modules are kept in
# __pycache__ even where the environment says not to (PYTHONDONTWRITEBYTECODE), so each is compiled once.
test: lint
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# each benchmark merges its measured rows into benchmarks/results.json; the last step prints them as one table
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_read.py
	$(BIN)/python benchmarks/bench_funnel.py --size 1M
	$(BIN)/python benchmarks/bench_funnel.py --size 10M
	$(BIN)/python benchmarks/bench_agents.py --size 1M
	$(BIN)/python benchmarks/bench_agents.py --size 10M
	$(BIN)/python benchmarks/bench_timeouts.py --size 1M
	$(BIN)/python benchmarks/bench_timeouts.py --size 10M
	$(BIN)/python benchmarks/bench_widgets.py
	$(BIN)/python benchmarks/bench_ga4.py --sessions 4200000 --repeats 2
	$(BIN)/python benchmarks/bench_dataset.py --events 50M
	$(BIN)/python benchmarks/bench_dataset.py --events 20M
	$(BIN)/python benchmarks/bench_dataset.py --events 5M
	$(BIN)/python benchmarks/bench_engines.py --events 5M
	$(BIN)/python benchmarks/report.py

# JupyterLab on the notebooks, with only what they need (the lab extra; no Spark, no test tools)
$(VENV)/.installed-lab: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@ $(VENV)/.installed

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab notebooks/

# the notebooks run on the sample and rendered as Markdown under docs/notebooks/ (figures as PNG, widgets
# as the screenshots the browser test saves in docs/img/); needs Chromium for the PNGs
docs: $(VENV)/.installed-lab
	$(BIN)/python docs/render_notebooks.py

# regenerate the bundled synthetic sample (deterministic)
sample: $(VENV)/.installed
	$(BIN)/python -c "import chatanalytics.datasets as d; d.simulate(d.SAMPLE_SESSIONS, seed=d.SAMPLE_SEED, path='$(SAMPLE)')"

clean:
	rm -rf $(VENV) out build .pytest_cache .ruff_cache
