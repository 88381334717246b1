# The two commands a newcomer needs: `make run` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

$(BIN)/kb: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	touch $@

.PHONY: run test install-test faults load fuzz
run: $(BIN)/kb   # make run PORT=8080 HOST=0.0.0.0
	$(BIN)/kb serve --host $(HOST) --port $(PORT)

install-test: $(BIN)/kb
	$(BIN)/pip install -q -e '.[test,st]'
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)   # tests start their own cluster
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm >/dev/null)
	@test -d node_modules || npm ci --no-audit --no-fund   # Bootstrap for a browser test (package.json)

test: install-test
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow"

# The long proofs (README "Production"): a real two-node deployment on PostgreSQL and Redis.
faults: install-test
	$(BIN)/python -m pytest -q tests/test_faults.py

load: install-test
	$(BIN)/pip install -q -e '.[load]'
	$(BIN)/python -m bench.traffic --users 16 --seconds 180

fuzz: install-test
	$(BIN)/python -m bench.fuzz
