# The few targets a newcomer needs. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := modconsole
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: screenshots help deps types frontend build demo test test-all test-go test-frontend e2e bench fuzz desktop lint clean socketio-compare reliability
.PHONY: package package-test screenshot bench-memory bench-p4b

help:
	@echo "make demo     build and start the console on simulated platforms (browser mode)"
	@echo "make test     install what tests need, then run every test (Go, frontend, real browser)"
	@echo "make bench    performance figures with their same-run baselines"
	@echo "make fuzz     run every Fuzz target for FUZZTIME each (default 60s), stop at the first crash"
	@echo "make desktop  install the Linux build dependencies and build the desktop app (build/bin/modconsole)"
	@echo "make package  the desktop app as a Debian package (build/bin/modconsole_*.deb), checked by lintian"
	@echo "make lint     go vet, gofmt and the frontend checks"
	@echo "make reliability  the crash and fault-injection suites at full count (100 kill -9 of the binary; R1-R5)"
	@echo "make socketio-compare  our Socket.IO client against the library (docs/decisions/socketio-client.md)"

deps:
	build/ci/deps.sh

# types: the frontend's API types (frontend/src/api/gen.ts) from the Go types.
types:
	$(GO) run ./build/ci/tsgen

frontend: types
	cd frontend && npm run build

build: frontend
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

demo:
	build/ci/deps.sh --demo
	$(MAKE) build
	./$(BIN) demo

# make test ends by checking that nothing it built or ran wrote into the
# work tree (build/ci/clean-tree.sh): in CI, git status must be clean.
test:
	@before=$$(git status --porcelain --untracked-files=all 2>/dev/null || true); \
	$(MAKE) --no-print-directory test-all && build/ci/clean-tree.sh "$$before"

test-all: deps build lint test-go test-frontend e2e package-test

test-go:
	MODCONSOLE_FULL_TESTS=1 build/ci/with-keyring.sh $(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -count=1 -run 'TestDemoQueueStaysWorkable' .

test-frontend:
	cd frontend && npm run typecheck && npm test

e2e: build
	build/ci/e2e.sh ./$(BIN)

# make bench: every performance figure of TARGETS.md with its same-run
# baseline, medians of 3 (docs/decisions/performance.md); P4 is one soak of
# P4_DURATION (the first half warm-up; shorter soaks measure the page caches
# filling, not growth; an hour: P4_DURATION=1h). About 6 minutes on a 2-core
# machine, plus two MEMORY_DURATION runs (10 min) for the whole-app memory,
# plus P4's browser half (frontend/e2e/p4.bench.mjs: 100 channels at 2,000
# msg/s in chromium) for P4B_DURATION: 10 minutes unless P4_DURATION is
# given, then the same as the Go half (P4_DURATION=1h runs both for an hour). P5 searches SEARCH_ROWS rows. P2 needs node and `npm ci` in
# backend/connector/socketio/testdata/node, else it is skipped; its run is a
# benchhooks build, which adds P2's pipeline with the store's writes switched
# off (BenchmarkP2PipelineNoStore: what everything but SQLite costs). P7 fills a log
# of P7_ROWS rows (10,000,000: about 3 minutes of raw bulk insert on a quiet
# 2-core machine, 2.8 GB in the temp dir) and compares ingest into it with an
# empty log, and again with the size-budget pruner running. P8 joins
# P8_CHANNELS channels (1,000) across the five simulators and compares them
# with 10 (about 3 minutes: Kichat's lookups are limited to 100 a minute).
# In all about 36–39 minutes on this 2-core machine (quiet, 2026-11-26).
SEARCH_ROWS ?= 1000000
P8_CHANNELS ?= 1000
P7_ROWS ?= 10000000
DRYRUN_ROWS ?= 1000000
P4_DURATION ?= 4m
P4B_DURATION ?= $(if $(filter file,$(origin P4_DURATION)),10m,$(P4_DURATION))
bench: deps build
	@set -o pipefail; { \
	$(GO) test -run '^$$' -bench Pipeline -benchtime 50x -count 3 ./backend/service/ && \
	DRYRUN_BENCH_ROWS=$(DRYRUN_ROWS) $(GO) test -run '^$$' -bench DryRun -benchtime 1x -count 3 -timeout 30m ./backend/service/ && \
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 3 ./backend/moderation/ && \
	$(GO) test -run '^$$' -bench 'WriteBatch|RawInsert|FTSFeed' -benchtime 50x -count 3 ./backend/store/ && \
	$(GO) test -run '^$$' -bench P10 -benchtime 30x -count 3 ./backend/service/ && \
	STORE_BENCH_SEARCH_ROWS=$(SEARCH_ROWS) $(GO) test -run '^$$' -bench Search -benchtime 500x -count 3 -timeout 30m ./backend/store/ && \
	STORE_BENCH_P7_ROWS=$(P7_ROWS) $(GO) test -run '^$$' -bench P7 -benchtime 1x -count 1 -timeout 90m ./backend/store/ && \
	$(GO) test -tags benchhooks -run '^$$' -bench P2 -benchtime 1x -count 3 -timeout 30m ./backend/bench/ && \
	P8_CHANNELS=$(P8_CHANNELS) $(GO) test -run '^$$' -bench P8 -benchtime 1x -count 1 -timeout 30m ./backend/bench/ && \
	P4_DURATION=$(P4_DURATION) $(GO) test -run '^$$' -bench P4 -benchtime 1x -count 1 -timeout 0 ./backend/bench/ ; \
	} | tee /tmp/modconsole-bench.txt
	@$(GO) run ./build/ci/benchreport < /tmp/modconsole-bench.txt
	@node frontend/e2e/coldstart.bench.mjs ./$(BIN)
	@node frontend/e2e/latency.bench.mjs ./$(BIN)
	@P4_DURATION=$(P4B_DURATION) node frontend/e2e/p4.bench.mjs ./$(BIN)
	@$(MAKE) --no-print-directory bench-memory

# make bench-p4b: P4's browser half alone (part of make bench): the demo with
# 100 channels at about 2,000 msg/s in chromium for P4B_DURATION (10m, or
# P4_DURATION when given: P4_DURATION=1h make bench-p4b); P4_WARMUP sets the
# warm-up (default: the first half), as for the Go half.
bench-p4b: build
	P4_DURATION=$(P4B_DURATION) node frontend/e2e/p4.bench.mjs ./$(BIN)

# make bench-memory (part of make bench): whole-app memory, desktop (Go +
# WebKit web and network processes, under Xvfb) next to browser mode (Go +
# chromium's renderer), with the demo's channels after MEMORY_DURATION
# seconds (frontend/e2e/memory.bench.mjs). The Wails build comes first.
MEMORY_DURATION ?= 300
bench-memory: build desktop
	node frontend/e2e/memory.bench.mjs ./$(BIN) build/bin/$(BIN) $(MEMORY_DURATION)

# make fuzz: every Fuzz* target in the repo, one after another, FUZZTIME each
# (a duration, or e.g. 1000000x for R6's execution count); stops at the first
# crash. Not part of make test (the seed corpora already run there). Go 1.26's
# fuzz coordinator can end a duration run with a bare "context deadline
# exceeded" and no failing input (golang/go#75804): that is reported as a
# warning, not a crash; a count (Nx) cannot hit it.
FUZZTIME ?= 60s
fuzz:
	@set -uo pipefail; \
	targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { n[++c] = $$1; next } /^ok / { for (i = 1; i <= c; i++) print $$2, n[i]; c = 0 }') || exit 1; \
	if [ -z "$$targets" ]; then echo "no Fuzz targets found"; exit 1; fi; \
	log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	while read -r pkg name; do \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		if $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -timeout 0 "$$pkg" 2>&1 | tee "$$log"; then continue; fi; \
		if ! grep -q 'Failing input written' "$$log" && grep -q 'context deadline exceeded' "$$log"; then \
			echo "warning: $$name stopped with a bare deadline error and no failing input (golang/go#75804); not a crash"; continue; \
		fi; \
		echo "fuzz: $$pkg $$name failed"; exit 1; \
	done <<< "$$targets"

# The desktop app: Wails builds the binary with the GTK/WebKitGTK 4.1 window
# (-s: the frontend is built by `make frontend`, from the npm ci install).
# PIE, as Debian's hardening expects of a packaged binary.
DESKTOP_DEBS := libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config
desktop:
	build/ci/deps.sh $(DESKTOP_DEBS)
	$(MAKE) --no-print-directory frontend
	GOFLAGS=-buildmode=pie $(GO) tool wails build -s -tags webkit2_41 -skipbindings -ldflags "$(LDFLAGS)"
	@echo "built build/bin/$(BIN)"

# make package: the .deb of the desktop app (build/linux/deb.sh), then
# lintian, which must report no error.
DEB_VERSION = $(shell build/linux/debversion.sh)
package: desktop
	build/ci/deps.sh dpkg-dev lintian
	@rm -f build/bin/$(BIN)_*.deb
	build/linux/deb.sh build/bin/$(BIN) "$(DEB_VERSION)" build/bin
	lintian --fail-on error build/bin/$(BIN)_*.deb
	@ls build/bin/$(BIN)_*.deb

# make package-test (part of make test): installs the .deb with apt-get as a
# user would and starts the installed binary (build/ci/package-test.sh),
# then the desktop end-to-end test drives the installed app in its window
# under Xvfb (build/ci/desktop-e2e.sh); its screenshot goes to build/bin/.
package-test: package
	build/ci/package-test.sh build/bin/$(BIN)_*.deb
	build/ci/desktop-e2e.sh /usr/bin/$(BIN) build/bin/desktop-e2e.png

# make screenshot: the desktop end-to-end run's screenshot, for the README.
screenshot: desktop
	build/ci/desktop-e2e.sh build/bin/$(BIN) docs/images/desktop.png

# make screenshots: refresh the browser screenshots in docs/screenshots from
# a run of the real-browser tests (make test writes them to a temp dir).
screenshots: build
	SCREENSHOTS=$(CURDIR)/docs/screenshots build/ci/e2e.sh ./$(BIN)

lint:
	$(GO) vet ./...
	$(GO) vet -tags benchhooks ./backend/store/ ./backend/bench/
	cd backend/connector/socketio/libprobe && $(GO) vet .
	@out=$$(gofmt -l app backend *.go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run ./build/ci/tsgen -check
	cd frontend && npm run check:dom

# make reliability: R1-R5 of TARGETS.md at full count (docs/decisions/reliability.md):
# 100 kill -9 of the real binary during ingest and actions (the normal test run
# does 20), 100 kills of a store-level ingest child, and 10 rounds of every link
# fault (drop, reset, outage, stall) per platform behind the fault proxy. About
# 10 minutes on a 2-core machine.
reliability:
	MODCONSOLE_KILL_ITER=100 $(GO) test -count=1 -timeout 30m -v -run '^TestKill9$$' .
	STORE_CRASH_ITER=100 $(GO) test -count=1 -timeout 30m -v -run '^TestCrashSafety$$' ./backend/store/
	FAULT_ROUNDS=10 $(GO) test -count=1 -timeout 30m -v -run '^TestFaults' ./backend/connector/faultproxy/

# make socketio-compare: the 10,000-event ordering burst through our client and
# through github.com/zishang520/socket.io-client-go (built from its own module,
# backend/connector/socketio/libprobe), against our server and Node's
# (docs/decisions/socketio-client.md).
socketio-compare: deps
	$(GO) test -count=1 -v -run TestLibraryComparison ./backend/connector/socketio/

clean:
	rm -rf $(BIN) build/bin frontend/dist/assets frontend/dist/index.html
