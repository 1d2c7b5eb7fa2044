# alertgate — make run serves with the seed defaults on 127.0.0.1:8080 (SQLite in
# ./data), make test runs every test. See README.md.

GO      ?= go
# go.mod names the toolchain the product is built, tested and vulnerability-
# checked with (toolchain go1.27.3: the standard library without the
# vulnerabilities fixed since go1.26.8). auto lets an older local Go fetch
# it from the module proxy once, as the go command does by default.
export GOTOOLCHAIN ?= auto
PKGS    := ./...
# The end-to-end tests and the load tool are a module of their own in
# test/ (its go.mod requires this one through a replace), so this
# module's graph is what the binary and its package tests need. Targets
# run them with $(GO) -C test.
TESTMOD := $(GO) -C test
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test test-short bench bench-scale bench-alertmanager chaos lint lint-tools vulncheck fuzz screenshots docker clean

run:
	$(GO) run ./cmd/alertgate serve --log-format console $(if $(CONFIG),--config $(CONFIG))

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/alertgate ./cmd/alertgate

# The race detector multiplies memory use, so the peak-RSS property of
# worst-case bodies runs once more without it.
test:
	$(GO) vet $(PKGS)
	$(TESTMOD) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)
	$(TESTMOD) test -race -count=1 $(PKGS)
	$(TESTMOD) test -count=1 -run '^TestWorstCaseBodiesBoundPeakRSS$$' .

test-short:
	$(GO) test -short -count=1 $(PKGS)
	$(TESTMOD) test -short -count=1 $(PKGS)

# Go benchmarks, then the HTTP load tool (durable ingest vs a parse-only
# baseline and the durable-append ceiling in the same run, CPU and rows
# per alert, and RSS at 100k active alerts). PostgreSQL rows too when
# ALERTGATE_TEST_POSTGRES_DSN is set.
BENCH_WORKLOADS ?= repeat,storm,grouped,incident,incident-grouped
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./adapters ./rules ./store ./server
	$(TESTMOD) test -count=1 -run '^TestWorstCaseBodiesBoundPeakRSS$$' -v .
	$(TESTMOD) test -run '^$$' -bench TimerPrecision -benchtime 1x .
	$(TESTMOD) run ./loadgen -duration 10s -conns 64 -timers 100000 -targets -idle 10000 -workloads $(BENCH_WORKLOADS)

# Flat with scale, not part of make bench (a few minutes the first time):
# the incident storm and repeats on an empty database and on a copy of one
# holding 1,000,000 alerts and 100,000 open incidents, in the same run. The
# large database is built once per schema version into $(SCALE_CACHE)
# (about 1 GB) and reused; SCALE="ALERTS,OPEN" for another size.
SCALE       ?= 1000000,100000
SCALE_CACHE ?= $(HOME)/.cache/alertgate-loadgen
bench-scale:
	$(TESTMOD) run ./loadgen -duration 10s -conns 64 -skip-rss -workloads '' -scale $(SCALE) -scale-cache $(SCALE_CACHE)

# The load tool's workloads against alertgate and the real Alertmanager
# (the version in test/go.mod, built from its Go module) in the same run,
# with alertgate/Alertmanager ratios. The module holds no web UI assets
# (ui/app/dist is built by npm in Alertmanager's release process), so
# bin/alertmanager is built from a scratch copy of the module from the
# module cache with two placeholder index.html files in ui/app/dist: the
# API is unchanged, the UI serves the placeholder. Nothing is fetched but
# Go modules through GOPROXY; the copy is deleted after the build.
AM_MODULE := github.com/prometheus/alertmanager
bench-alertmanager: bin/alertmanager
	$(TESTMOD) run ./loadgen -duration 10s -conns 64 -skip-rss -alertmanager-bin $(CURDIR)/bin/alertmanager -workloads $(BENCH_WORKLOADS)

bin/alertmanager: test/go.mod
	@$(TESTMOD) mod download $(AM_MODULE)
	@set -e; src=$$($(TESTMOD) list -m -f '{{.Dir}}' $(AM_MODULE)); tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		echo "building $(AM_MODULE)/cmd/alertmanager $$($(TESTMOD) list -m -f '{{.Version}}' $(AM_MODULE)) (UI assets stubbed)"; \
		cp -R "$$src" "$$tmp/am"; chmod -R u+w "$$tmp/am"; \
		for d in elm mantine; do mkdir -p "$$tmp/am/ui/app/dist/$$d"; \
			echo '<!doctype html><title>Alertmanager</title><p>web UI not built (alertgate benchmark build)' > "$$tmp/am/ui/app/dist/$$d/index.html"; done; \
		mkdir -p bin; cd "$$tmp/am" && GOFLAGS=-mod=mod $(GO) build -o "$(CURDIR)/bin/alertmanager" ./cmd/alertmanager

# Chaos, not part of make test (about 3 minutes per engine): load with
# SIGKILLs and restarts of the gateway paging healthy, slow, 429, 500 and
# hanging targets, on SQLite and, when ALERTGATE_TEST_POSTGRES_DSN is set,
# PostgreSQL; fails when a promise is broken. CHAOS_FLAGS="-kills 5" etc.
CHAOS_FLAGS ?=
chaos:
	$(TESTMOD) run ./loadgen chaos $(CHAOS_FLAGS)

# gofmt, golangci-lint (.golangci.yml), go vet and govulncheck, of both
# modules; .ci/run runs it before make test. The linters are built from
# pinned module versions into $(go env GOPATH)/bin, once (lint-tools skips
# a version already there, built with the same Go).
GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION   := v1.9.0
VULNDB_VERSION        := v0.0.0-20261105234957-e22db6528018
GOBIN_DIR             := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT         := $(GOBIN_DIR)/golangci-lint
lint: lint-tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run ./...
	cd test && $(GOLANGCI_LINT) run ./...
	$(GO) vet $(PKGS)
	$(TESTMOD) vet $(PKGS)
	$(MAKE) --no-print-directory vulncheck

GOVERSION := $(shell $(GO) env GOVERSION)
lint-tools:
	@if ! "$(GOLANGCI_LINT)" version 2>/dev/null | grep -q 'version $(patsubst v%,%,$(GOLANGCI_LINT_VERSION)) .*built with $(GOVERSION) '; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) with $(GOVERSION) (a few minutes)"; \
		GOFLAGS= $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); fi

# govulncheck against the Go vulnerability database of a pinned
# golang.org/x/vulndb module version (its data/osv reports, indexed by the
# module's own cmd/indexdb into $(GOBIN_DIR)/../vulndb/<version>), so
# nothing but the module proxy is needed. Both modules; part of make lint.
VULNDB_DIR := $(shell $(GO) env GOPATH)/vulndb/$(VULNDB_VERSION)
vulncheck:
	@if [ ! -f "$(VULNDB_DIR)/index/db.json" ]; then \
		echo "indexing golang.org/x/vulndb@$(VULNDB_VERSION) into $(VULNDB_DIR)"; \
		src=$$(cd / && GOFLAGS= $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		cd / && GOFLAGS= $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$(VULNDB_DIR)" || exit 1; fi
	@command -v govulncheck >/dev/null 2>&1 || [ -x "$(GOBIN_DIR)/govulncheck" ] || \
		GOFLAGS= $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	PATH="$(GOBIN_DIR):$$PATH" govulncheck -db file://$(VULNDB_DIR) ./...
	cd test && PATH="$(GOBIN_DIR):$$PATH" govulncheck -db file://$(VULNDB_DIR) ./...

# Short fuzzing of every decoder (FUZZTIME=1m make fuzz for longer).
FUZZTIME ?= 20s
fuzz:
	for f in FuzzAlertmanager FuzzGrafana FuzzHealthcheck FuzzGeneric; do \
		$(GO) test ./adapters -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./config -run '^$$' -fuzz '^FuzzLoadBytes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzMarshalLoaded$$' -fuzztime $(FUZZTIME)

# The README's screenshots (docs/screenshots/*.png), taken by the browser
# tests in a headless Chromium (Debian: apt-get install chromium).
screenshots:
	ALERTGATE_SCREENSHOTS=docs/screenshots $(TESTMOD) test -count=1 -run '^TestBrowser$$/^OnCallWorkflow$$' .

docker:
	docker build -t alertgate:$(VERSION) .

clean:
	rm -rf bin data
