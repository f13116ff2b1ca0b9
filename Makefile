# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint bench clean check prepare

# The stamp file re-installs only when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build; a bare "torch" would pull CUDA wheels.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: $(BIN)/.installed
	$(BIN)/uvicorn app.main:app --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/ruff check app tests bench scripts
	$(BIN)/python -m pytest -q

# Every lesson rendered as the server does; each mistake printed as file:line: message.
check: $(BIN)/.installed
	$(BIN)/python -m app check $(LESSONS)

# Every demo of every lesson run once on the server `make run` started (same HOST and
# PORT), so the class replays them from its cache; LESSONS=dir takes them from a folder.
prepare: $(BIN)/.installed
	$(BIN)/python -m app prepare --url http://$(HOST):$(PORT) $(if $(LESSONS),--lessons $(LESSONS))

lint: $(BIN)/.installed
	$(BIN)/ruff check app tests bench scripts
	$(BIN)/hadolint Dockerfile

bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
