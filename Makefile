# The few targets a newcomer needs. `make help` lists them.
SHELL := /bin/bash
GO ?= go
BIN := modconsole
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: help deps frontend build demo test test-go test-frontend e2e bench desktop lint clean

help:
	@echo "make demo     build and start the console on simulated platforms (browser mode)"
	@echo "make test     install what tests need, then run every test (Go, frontend, real browser)"
	@echo "make bench    performance figures with their same-run baselines"
	@echo "make desktop  install the Linux build dependencies and build the desktop app (build/bin/modconsole)"
	@echo "make lint     go vet, gofmt and the frontend checks"

deps:
	build/ci/deps.sh

frontend:
	cd frontend && npm run build

build: frontend
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

demo:
	build/ci/deps.sh --no-debian
	$(MAKE) build
	./$(BIN) demo

test: deps build lint test-go test-frontend e2e

test-go:
	MODCONSOLE_FULL_TESTS=1 build/ci/with-keyring.sh $(GO) test -race -count=1 -timeout 20m ./...

test-frontend:
	cd frontend && npm run typecheck && npm test

e2e: build
	build/ci/e2e.sh ./$(BIN)

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x -count 3 ./backend/service/ ./backend/store/ ./backend/moderation/ | tee /tmp/modconsole-bench.txt
	@$(GO) run ./build/ci/benchreport < /tmp/modconsole-bench.txt

desktop:
	build/ci/deps.sh libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config
	$(GO) tool wails build -tags webkit2_41 -skipbindings -ldflags "$(LDFLAGS)"
	@echo "built build/bin/$(BIN)"

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l app backend *.go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cd frontend && npm run check:dom

clean:
	rm -rf $(BIN) build/bin frontend/dist/assets frontend/dist/index.html
