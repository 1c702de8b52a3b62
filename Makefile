# The two commands of the README's quick start, and the benchmarks.
PREFIX ?= /usr/local

.PHONY: install demo test bench bench-queue bench-retention bench-serve bench-postgres screenshot deps build fuzz

deps:
	@bash scripts/install-deps.sh

build: deps
	swift build

# Builds a release binary and installs it as $(PREFIX)/bin/media-janitor.
install: deps
	swift build -c release --product media-janitor
	install -D -m 0755 .build/release/media-janitor $(PREFIX)/bin/media-janitor

# Builds the sample app (samples/out) and audits it.
demo: build
	bash samples/make-sample.sh
	cd samples && ../.build/debug/media-janitor check && ../.build/debug/media-janitor scan && ../.build/debug/media-janitor retention --dry-run --top 5

# The whole test suite, beside a throwaway PostgreSQL server (installed with apt-get when
# missing, started on a loopback port in a temporary directory, stopped afterwards).
test: deps
	swift build --build-tests
	bash scripts/with-postgres.sh swift test

# Scan time against `find` on a generated tree: `make bench` (200,000 files) or
# `make bench ARGS=--million`.
bench: deps
	bash Benchmarks/scan-bench.sh $(ARGS)

# Queue drain against `find -delete` on identical trees: `make bench-queue` (100,000 files).
bench-queue: deps
	bash Benchmarks/queue-bench.sh $(ARGS)

# Retention planning (`retention --dry-run`) against a sqlite3 read of the same rows:
# `make bench-retention` (1,000,000 rows) or `make bench-retention ARGS="--rows 100000"`.
bench-retention: deps
	bash Benchmarks/retention-bench.sh $(ARGS)

# `serve` under HTTP load: delete events for 20,000 files over 4 keep-alive connections,
# events/s, removals/s and POST-to-removal latency, beside `find -delete`:
# `make bench-serve` or `make bench-serve ARGS="--batch 100 --connections 8"`.
bench-serve: deps
	bash Benchmarks/serve-bench.sh $(ARGS)

# PostgreSQL: scan time on 1,000,000 references in PostgreSQL beside the same scan on SQLite
# and find, then the drain rate of 1, 2 and 3 `serve` processes sharing one PostgreSQL store,
# beside `find -delete` (a throwaway durable server unless MEDIA_JANITOR_TEST_POSTGRES is set):
# `make bench-postgres` or `make bench-postgres ARGS="--refs 100000 --fleet-files 5000"`.
bench-postgres: deps
	bash Benchmarks/postgres-bench.sh $(ARGS)

# docs/status-page.png: the status page of `serve` on the sample app, taken with headless
# Chromium (installed with apt-get when missing).
screenshot: deps
	bash scripts/status-screenshot.sh $(ARGS)

# libFuzzer on what hostile input reaches: the config loader, the event decoder and the path
# rules, 600 s each (Fuzz/, built into .build-fuzz); a failing input is saved and the run fails:
# `make fuzz` or `make fuzz ARGS="120 paths events"`.
fuzz:
	bash scripts/fuzz.sh $(ARGS)
