# The two commands that matter: `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements/lock.txt requirements/extras.txt requirements/spacy-models.txt
export RASA_TELEMETRY_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)

.PHONY: help setup run test train faq faq-check faq-gaps export merge evaluate retrain rollback agent lint unit bench bench-handoff bench-triage bench-nlu bench-faq bench-lang bench-latency clean

help:
	@echo "make run    set everything up, then start the bot, action server and web chat"
	@echo "make test   set everything up, then run lint, type checks and the whole test suite"
	@echo "make train  retrain the Rasa model if its data or config changed"
	@echo "make faq        check the FAQ files and rebuild the FAQ index if they changed"
	@echo "make faq-check  check the FAQ files and list every problem"
	@echo "make faq-gaps   questions the bot could not answer, most frequent first"
	@echo "make export     recent conversations -> candidate training examples to review (var/reviews/)"
	@echo "make merge REVIEW=<file>  add the reviewed examples to the training data or the FAQ"
	@echo "make evaluate   one report on the model (held-out intents, cross-validation, stories, FAQ) in reports/"
	@echo "make retrain    train a candidate model; promote it only if it is not worse on held-out data"
	@echo "make rollback   the previous model becomes the current one again"
	@echo "make agent NAME=ana ROLE=admin  create an agent console account (asks for the password)"
	@echo "make bench  run the NLU, FAQ, language, latency, handoff and triage benchmarks (results in benchmarks/results/)"

$(STAMP): $(REQUIREMENTS) scripts/find-python310.sh
	@python310=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then \
	  echo "Creating $(VENV) with $$python310"; rm -rf $(VENV); "$$python310" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip install --python $(PY) -r requirements/lock.txt -r requirements/extras.txt
	$(VENV)/bin/uv pip install --python $(PY) --no-deps -r requirements/spacy-models.txt
	touch $(STAMP)

setup: $(STAMP)

train: $(STAMP)
	$(PY) -m stack train

faq: $(STAMP)
	$(PY) -m retrieval build

faq-check: $(STAMP)
	$(PY) -m retrieval check

faq-gaps: $(STAMP)
	$(PY) -m retrieval gaps

export: $(STAMP)
	$(PY) -m learning export $(if $(DAYS),--days $(DAYS)) $(if $(TRACKER_URL),--tracker-url "$(TRACKER_URL)")

merge: $(STAMP)
	@test -n "$(REVIEW)" || { echo "usage: make merge REVIEW=var/reviews/<file>.yml [DRY_RUN=1]"; exit 2; }
	$(PY) -m learning merge "$(REVIEW)" $(if $(DRY_RUN),--dry-run)

evaluate: train faq
	$(PY) -m learning evaluate

retrain: $(STAMP)
	$(PY) -m learning retrain $(if $(TOLERANCE),--tolerance $(TOLERANCE))

rollback: $(STAMP)
	$(PY) -m learning rollback

agent: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make agent NAME=<username> [ROLE=agent|admin] [TEAM=<team>]"; exit 2; }
	$(PY) -m handoff create-user "$(NAME)" --role "$(or $(ROLE),agent)" $(if $(TEAM),--team "$(TEAM)")

run: train faq
	$(PY) -m stack run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: train faq lint
	scripts/install-browser.sh
	$(PY) -m pytest

unit: $(STAMP)
	$(PY) -m pytest -m "not e2e and not slow"

bench: bench-nlu bench-faq bench-lang bench-latency bench-handoff bench-triage

bench-nlu: $(STAMP)
	$(PY) -m benchmarks.nlu_clinc

bench-faq: faq
	$(PY) -m benchmarks.faq
	$(PY) -m benchmarks.faq_serving

bench-lang: $(STAMP)
	$(PY) -m benchmarks.langid
	$(PY) -m benchmarks.multilingual

bench-latency: train
	$(PY) -m benchmarks.latency

bench-handoff: train
	$(PY) -m benchmarks.handoff

bench-triage: $(STAMP)
	$(PY) -m benchmarks.triage

clean:
	rm -rf models/*.tar.gz models/*.fingerprint var/ .pytest_cache .mypy_cache .ruff_cache
