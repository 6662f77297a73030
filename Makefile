# The two commands a newcomer needs. Both install what is missing first, and are safe to run again.
.PHONY: run test

## make run: build and serve payonce on http://127.0.0.1:3000 (in-memory store, SQLite under data/)
run:
	@scripts/setup.sh run
	@scripts/run.sh

## make test: fmt, clippy (server and browser builds), every cargo test, and the Playwright suite
test:
	@scripts/setup.sh test
	@scripts/test.sh
