# Two commands for a newcomer: `make run` and `make test`. Each creates .venv if missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-min lint typecheck pytest nbval notebooks lock bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,bench]'
	touch $(STAMP)

# the main job: serve the tablet form, sign-in page and live board of the demo's open meeting
run: $(STAMP)
	$(BIN)/sanhui serve --demo-if-missing

test: $(STAMP) lint typecheck pytest nbval

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench
	$(BIN)/ruff format --check toolkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# The floors of pyproject.toml, tested: a venv of its own (.venv-min) with every direct dependency
# at the lowest version pyproject allows (.ci/min_constraints.py), then the tests. Where a floor
# fails, raise it in pyproject.toml. Slow: it installs everything afresh.
MIN := .venv-min
test-min:
	rm -rf $(MIN)
	$(PY) -m venv $(MIN)
	$(MIN)/bin/python -m pip install --quiet --upgrade pip
	$(PY) .ci/min_constraints.py test bench > $(MIN)/constraints-min.txt
	$(MIN)/bin/pip install --quiet -c $(MIN)/constraints-min.txt -e '.[test,bench]'
	$(MIN)/bin/pip list --format=freeze > $(MIN)/installed.txt
	$(MIN)/bin/pytest -p no:cacheprovider -m "not browser"

# Notebooks are executed and their outputs compared strictly with the stored ones (text, HTML, stderr).
# nbval itself skips image/png and image/jpeg outputs (unless --nbdime) and widget model ids; the
# sanitizer masks only timestamps, temporary paths, memory addresses and widget ids, never numbers.
# The served app notebooks (30-32) keep their widget output too (nbval compares its text fallback).
NBVAL_CFG := notebooks/nbval_sanitize.cfg
nbval: $(STAMP)
	$(BIN)/pytest --nbval notebooks/ --nbval-current-env --nbval-sanitize-with $(NBVAL_CFG)

# Re-execute every notebook with the venv's kernel and write their outputs back (no timing or
# widget state in the metadata, so a re-run changes nothing when the results did not change).
RESEARCH_NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
notebooks: $(STAMP)
	@for nb in $(RESEARCH_NOTEBOOKS); do \
	  start=$$(date +%s%N); \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace --log-level=WARN \
	    --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=300 \
	    --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.store_widget_state=False \
	    "$$nb" || exit 1; \
	  echo "$$nb: $$(( ($$(date +%s%N) - start) / 1000000 )) ms"; \
	done

# Refresh the pins: resolve pyproject.toml afresh in a scratch venv and freeze it.
lock:
	rm -rf .venv-lock
	$(PY) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[test,bench]'
	.venv-lock/bin/pip freeze --exclude-editable > constraints.txt
	rm -rf .venv-lock

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(MIN) build *.egg-info
