# The two commands a newcomer needs: `make demo` and `make test`.
# Both prepare the machine first (see bootstrap.sh), so they work on a fresh clone.
.PHONY: demo test bench bench-quick setup

setup:
	./bootstrap.sh

demo: setup
	.venv/bin/resdesk demo

test: setup
	.venv/bin/python -m pytest

bench: setup
	.venv/bin/python -m bench

bench-quick: setup
	.venv/bin/python -m bench --quick
