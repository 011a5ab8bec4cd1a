# Two commands for a newcomer: `make run` and `make test`. Everything else is plumbing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app timebank
PORT ?= 5000
TRANSLATIONS := timebank/translations
PYTEST_ARGS ?=

.PHONY: run test install translations messages constraints clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

run: translations
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty
	$(BIN)/flask --app wsgi run --port $(PORT)

# pytest exits with 5 when it collects no tests; that is not a failure of the suite.
# -rs: the summary names every skipped test and why.
test: translations
	$(BIN)/pytest -rs $(PYTEST_ARGS) || [ $$? -eq 5 ]

# For developers: pull new strings out of the code into the catalogues.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100 \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete --width 100

# For developers, after changing a dependency in pyproject.toml: pin what it pulls in as well.
constraints:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	(sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --exclude-editable) > constraints.new && mv constraints.new constraints.txt
	touch $(VENV)/.installed

clean:
	rm -rf $(VENV) *.egg-info
