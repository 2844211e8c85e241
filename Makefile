# The two commands the README starts with. Each installs what it needs first (quick when already there).
.PHONY: run test bench fuzz setup

run:
	scripts/setup.sh
	.venv/bin/pageturn serve

test:
	scripts/setup.sh --test
	scripts/test.sh

bench:
	scripts/setup.sh --test
	.venv/bin/python bench/run_all.py

fuzz:
	scripts/setup.sh --test
	.venv/bin/python scripts/fuzz.py
