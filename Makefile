# The two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint schema bench clean serve

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/python -m gateway.http.graphiql_assets install || echo "GraphiQL assets not installed: /graphql will say how to install them"
	touch $(STAMP)

install: $(STAMP)

# `make demo WAREHOUSE=duckdb` builds and serves the demo in DuckDB (README: Warehouses).
WAREHOUSE ?= sqlite
DEMO_ENV := $(if $(filter duckdb,$(WAREHOUSE)),SPYNE_WAREHOUSE_URL=duckdb:///.spyne/warehouse.duckdb,)

demo: $(STAMP)
	$(BIN)/spyne migrate
	$(DEMO_ENV) $(BIN)/spyne demo load --warehouse $(WAREHOUSE)
	$(DEMO_ENV) $(BIN)/spyne serve --demo

serve: $(STAMP)
	$(BIN)/spyne serve

lint: $(STAMP)
	$(BIN)/ruff check gateway planner tests bench migrations
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/python -m gateway.graphql.export > schema.graphql

test: $(STAMP) lint
	$(BIN)/pytest -n 2

test-fast: $(STAMP)
	$(BIN)/pytest -x

bench: $(STAMP)
	$(BIN)/python bench/planner.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/joins.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/warehouses.py
	$(BIN)/python bench/load.py --quick

clean:
	rm -rf $(VENV) .spyne
