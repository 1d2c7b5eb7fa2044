# alertgate — make run serves with the seed defaults on 127.0.0.1:8080 (SQLite in
# ./data), make test runs every test. See README.md.

GO      ?= go
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test test-short bench chaos lint fuzz docker clean

run:
	$(GO) run ./cmd/alertgate serve --log-format console $(if $(CONFIG),--config $(CONFIG))

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/alertgate ./cmd/alertgate

# The race detector multiplies memory use, so the peak-RSS property of
# worst-case bodies runs once more without it.
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -count=1 -run '^TestWorstCaseBodiesBoundPeakRSS$$' ./test

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Go benchmarks, then the HTTP load tool (durable ingest vs a parse-only
# baseline in the same run, and RSS at 100k active alerts).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./adapters ./rules ./store ./server
	$(GO) test -count=1 -run '^TestWorstCaseBodiesBoundPeakRSS$$' -v ./test
	$(GO) test -run '^$$' -bench TimerPrecision -benchtime 1x ./test
	$(GO) run ./test/loadgen -duration 10s -conns 64 -timers 100000 -targets -workloads repeat,storm,grouped

# Chaos, not part of make test (about 3 minutes per engine): load with
# SIGKILLs and restarts of the gateway paging healthy, slow, 429, 500 and
# hanging targets, on SQLite and, when ALERTGATE_TEST_POSTGRES_DSN is set,
# PostgreSQL; fails when a promise is broken. CHAOS_FLAGS="-kills 5" etc.
CHAOS_FLAGS ?=
chaos:
	$(GO) run ./test/loadgen chaos $(CHAOS_FLAGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Short fuzzing of every decoder (FUZZTIME=1m make fuzz for longer).
FUZZTIME ?= 20s
fuzz:
	for f in FuzzAlertmanager FuzzGrafana FuzzHealthcheck FuzzGeneric; do \
		$(GO) test ./adapters -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./config -run '^$$' -fuzz '^FuzzLoadBytes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./config -run '^$$' -fuzz '^FuzzMarshalLoaded$$' -fuzztime $(FUZZTIME)

docker:
	docker build -t alertgate:$(VERSION) .

clean:
	rm -rf bin data
