# The two commands a newcomer needs: `make demo` and `make test`.
# Both prepare the machine first (see bootstrap.sh), so they work on a fresh clone.
.PHONY: demo test bench bench-quick setup

setup:
	./bootstrap.sh

demo: setup
	.venv/bin/resdesk demo

# Two workers: the suite waits on servers, browsers and LibreOffice as much as it computes.
# `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 2

test: setup
	.venv/bin/python -m pytest -n $(TEST_WORKERS) --dist worksteal

bench: setup
	.venv/bin/python -m bench

bench-quick: setup
	.venv/bin/python -m bench --quick
