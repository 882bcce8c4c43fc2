# tbconform: `make conformance` runs the suite against the embedded sandbox; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install conformance test test-heavy bench bench-edubridge bench-qti specs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

conformance: $(STAMP)
	$(BIN)/tbconform run --report-dir reports/latest

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

test-heavy: $(STAMP)
	$(BIN)/python -m pytest -q -m heavy --run-heavy

bench: $(STAMP)
	$(BIN)/python bench/seed_bench.py
	$(BIN)/python bench/sandbox_bench.py
	$(BIN)/python bench/contract_bench.py
	$(BIN)/python bench/suite_bench.py
	$(BIN)/python bench/caliper_bench.py
	$(BIN)/python bench/edubridge_bench.py
	$(BIN)/python bench/qti_bench.py
	$(BIN)/python bench/qti_validate_bench.py

bench-edubridge: $(STAMP)
	$(BIN)/python bench/edubridge_bench.py

bench-qti: $(STAMP)
	$(BIN)/python bench/qti_bench.py
	$(BIN)/python bench/qti_validate_bench.py

specs: $(STAMP)
	$(BIN)/python -m tbconform.specs.oneroster._generate
	$(BIN)/python -m tbconform.specs.caliper.events
	$(BIN)/python -m tbconform.specs.caliper._generate
	$(BIN)/python -m tbconform.specs.edubridge._generate
	$(BIN)/python -m tbconform.specs.qti._generate

clean:
	rm -rf $(VENV) reports/latest build *.egg-info
