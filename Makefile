# The two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.spark-server-installed
# The Spark half of the suite runs when SPYNE_TEST_SPARK=1 (CI sets it): pyspark is installed then,
# and a local Spark Thrift server is started before lint (it takes about a minute) and stopped after.
SPARK := $(filter 1,$(SPYNE_TEST_SPARK))

.PHONY: install demo test test-fast lint schema bench clean serve

$(STAMP): pyproject.toml gateway/http/graphiql_assets.py gateway/http/workbench_assets.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,spark]'
	$(BIN)/python -m gateway.http.graphiql_assets install || echo "GraphiQL assets not installed: /graphql will say how to install them"
	$(BIN)/python -m gateway.http.workbench_assets install || echo "workbench assets not installed: /workbench will say how to install them"
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

$(SPARK_STAMP): $(STAMP)
	$(BIN)/pip install -q -e '.[dev,spark,spark-server]'
	touch $(SPARK_STAMP)

# --dist loadgroup: the Spark tests (xdist_group "spark") share one worker and one server.
test: $(STAMP) $(if $(SPARK),$(SPARK_STAMP))
	@$(if $(SPARK),$(BIN)/python -m tests.support.spark_server start >/dev/null;) \
	status=0; $(MAKE) --no-print-directory lint && $(BIN)/pytest -n 2 --dist loadgroup || status=$$?; \
	$(if $(SPARK),$(BIN)/python -m tests.support.spark_server stop >/dev/null;) exit $$status

test-fast: $(STAMP)
	$(BIN)/pytest -x

bench: $(STAMP)
	$(BIN)/python bench/planner.py
	$(BIN)/python bench/drift.py
	$(BIN)/python bench/joins.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/document_limits.py
	$(BIN)/python bench/warehouses.py
	$(BIN)/python bench/load.py --quick

clean:
	rm -rf $(VENV) .spyne
