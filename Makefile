# Two commands for a newcomer: `make run` and `make test`. Everything else is plumbing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app timebank
PORT ?= 5000
TRANSLATIONS := timebank/translations
PYTEST_ARGS ?=
# The suite runs in one process per core (pytest-xdist); TEST_PROCESSES=0 runs it in this one.
TEST_PROCESSES ?= auto

.PHONY: run test install system-packages translations messages constraints clean format

$(VENV)/.installed: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: system-packages $(VENV)/.installed

# The PDF report (WeasyPrint) draws text with Pango and HarfBuzz from the system. As root, install
# what is missing; anyone else is told what to ask for (everything but PDF works without them).
WEASYPRINT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core
system-packages:
	@if ! command -v apt-get >/dev/null 2>&1 || dpkg -s $(WEASYPRINT_DEBS) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		(apt-get install -y -q $(WEASYPRINT_DEBS) || (apt-get update -q && apt-get install -y -q $(WEASYPRINT_DEBS))) \
			>/dev/null 2>&1 || echo "Could not install $(WEASYPRINT_DEBS): PDF reports will not work"; \
	else echo "For PDF reports, ask your administrator for: apt-get install $(WEASYPRINT_DEBS)"; fi

translations: install
	$(BIN)/pybabel compile -d $(TRANSLATIONS)

run: translations
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo seed --if-empty
	@echo "In development no email is sent: each one is printed here with its links, and all of them are at http://127.0.0.1:$(PORT)/dev/outbox"
	TIMEBANK_DEV_OUTBOX=true $(BIN)/flask --app wsgi run --port $(PORT)

# pytest exits with 5 when it collects no tests; that is not a failure of the suite.
# -rs: the summary names every skipped test and why.
test: translations
	$(BIN)/pytest -rs -n $(TEST_PROCESSES) $(PYTEST_ARGS) || [ $$? -eq 5 ]

# For developers: pull new strings out of the code into the catalogues.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100 \
		-o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete --width 100

# For developers: lay the code out as ruff does (config in pyproject.toml); .ci/run checks it.
format: install
	$(BIN)/ruff format .

# For developers, after changing a dependency in pyproject.toml: pin what it pulls in as well.
constraints:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	(sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --exclude-editable) > constraints.new && mv constraints.new constraints.txt
	touch $(VENV)/.installed

clean:
	rm -rf $(VENV) *.egg-info
