# Two entry points, both safe on a fresh machine with only Python 3.11+ and make:
#   make run    set up, validate the bundled policies and evaluate the example facts
#   make test   set up, run every test (pytest, the YAML policy tests, the import contract,
#               the type check, the docs build)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
TESTED  = $(VENV)/.installed-test
PARSER  = neocrm_policy/language/syntax/_standalone.py
# pytest's workers: one per core (pytest-xdist); JOBS=1 runs the suite in one process
JOBS   ?= auto

.PHONY: run test bench bench-serve bench-batch bench-impact docs clean validate policy-test accept editor-change

# What running needs (make run, validate, accept): the package and its dependencies only.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# What testing needs besides: the test, docs, service and batch extras.
$(TESTED): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,docs,serve,batch,lsp]'
	touch $(TESTED)

# The grammar's LALR tables as a stand-alone module (not committed; see syntax/generate.py):
# commands start without importing Lark or building the tables. A wheel gets its own from
# hatch_build.py; this one serves the editable install.
$(PARSER): grammar/expressions.lark neocrm_policy/language/syntax/generate.py $(STAMP)
	$(BIN)/python -m neocrm_policy.language.syntax.generate

run: $(STAMP) $(PARSER)
	$(BIN)/neocrm-policy validate
	$(BIN)/neocrm-policy examples

test: $(TESTED) $(PARSER)
	$(BIN)/python -m pytest -q -n $(JOBS) --durations=15
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy
	$(BIN)/neocrm-policy validate --strict policies
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

# axe-core (npm) for the ask page's accessibility test (tests/test_ask_page.py), which is
# skipped, saying why, until this has run; needs npm and the network (.ci/run runs it).
AXE_VERSION ?= 4.14.1
AXE = build/node_modules/axe-core/axe.min.js
.PHONY: axe
axe: $(AXE)
$(AXE):
	npm install --no-save --no-audit --no-fund --prefix build axe-core@$(AXE_VERSION)

# For legal editors, after `make run`: check the rules, run the YAML policy tests, and
# accept the new results of the cases a deliberate change of terms moved.
validate: $(STAMP) $(PARSER)
	$(BIN)/neocrm-policy validate --strict policies

policy-test: $(STAMP) $(PARSER)
	$(BIN)/neocrm-policy test --coverage policies

accept: $(STAMP)
	$(BIN)/neocrm-policy test --accept policies

# An editor's change, end to end on a fresh clone (what .ci/run also runs).
editor-change:
	bash tests/editor_change.sh

# Not a test: schemathesis over every operation of the service's OpenAPI document with
# every check, for API_FUZZ_EXAMPLES examples an operation (make test runs 25, seeded).
API_FUZZ_EXAMPLES ?= 1000
.PHONY: api-fuzz
api-fuzz: $(TESTED)
	API_FUZZ_EXAMPLES=$(API_FUZZ_EXAMPLES) $(BIN)/python -m pytest -q \
		tests/test_service_contract.py -k schemathesis

# Not a test: 10^5 decisions of generated policies, compiled and by the reference
# interpreter, must agree (benchmarks/fuzz_diff.py; about an hour; FUZZ_ARGS to change).
.PHONY: fuzz-diff
fuzz-diff: $(TESTED)
	$(BIN)/python benchmarks/fuzz_diff.py $(FUZZ_ARGS)

# Not a test: atheris over the front door (YAML loader, grammar, checker, facts reader)
# for FUZZ_SECONDS (default 600); anything but a PolicyError stops it and leaves the
# input in build/fuzz/ (benchmarks/fuzz_front_door.py).
FUZZ_SECONDS ?= 600
.PHONY: fuzz
fuzz: $(TESTED)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet atheris
	$(BIN)/python benchmarks/fuzz_front_door.py $(FUZZ_SECONDS)

# Not in CI (hours): mutmut over the checker, compiler, facts reader, loader, calendars,
# values and the terms in force, in a copy of the committed tree under build/mutation
# (benchmarks/mutation.py; MODULES to narrow).
.PHONY: mutation
mutation: $(TESTED)
	$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/python -m pip install --quiet mutmut
	$(BIN)/python benchmarks/mutation.py $(MODULES)

docs: $(TESTED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

bench: $(TESTED) $(PARSER)
	$(BIN)/python benchmarks/bench_decide.py

# The decision service under load (loopback only, bounded runs); needs wrk
# (apt-get install wrk).
bench-serve: $(TESTED)
	$(BIN)/python benchmarks/bench_serve.py

# eval --batch: one process, --jobs 2, Dask on a local cluster, and peak memory on a
# 2-million-line input, each beside hand-written Python (several minutes; --quick: one).
bench-batch: $(TESTED)
	$(BIN)/python benchmarks/bench_batch.py

# Not a test: `diff --impact` over 10^6 generated support.sla records for a one-term change,
# in one process and with --dask on a two-worker LocalCluster, each beside a hand-written
# loop in the same run, and its peak memory (BENCH_ARGS=--quick: 10^5; --no-dask).
bench-impact: $(TESTED) $(PARSER)
	$(BIN)/python benchmarks/bench_impact.py $(BENCH_ARGS)

# The docs' Spark recipe and the Spark tests, which `make test` skips, saying why, where
# PySpark is not installed: adds the `spark` extra to the venv (about 520 MB and a minute;
# Java 17 or later must be installed) and runs them (a minute or two). CI runs it.
.PHONY: spark-test
spark-test: $(TESTED) $(PARSER)
	$(BIN)/python -c "import pyspark" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[spark]'
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider tests/test_batch.py tests/test_docs.py -k "spark or batch.md"

clean:
	rm -rf $(VENV) site build dist .pytest_cache .mypy_cache
