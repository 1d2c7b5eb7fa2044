# alertgate — make run serves with the seed defaults on :8080 (SQLite in
# ./data), make test runs every test. See README.md.

GO      ?= go
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test test-short bench lint fuzz screenshots docker clean

run:
	$(GO) run ./cmd/alertgate serve --log-format console $(if $(CONFIG),--config $(CONFIG))

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/alertgate ./cmd/alertgate

test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Go benchmarks, then the HTTP load tool (durable ingest vs a parse-only
# baseline in the same run, and RSS at 100k active alerts).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./adapters ./rules ./store
	$(GO) test -run '^$$' -bench TimerPrecision -benchtime 1x ./test
	$(GO) run ./test/loadgen -duration 10s -conns 64 -timers 100000 -targets -workloads repeat,storm,grouped

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Short fuzzing of every decoder (FUZZTIME=1m make fuzz for longer).
FUZZTIME ?= 20s
fuzz:
	for f in FuzzAlertmanager FuzzGrafana FuzzHealthcheck FuzzGeneric; do \
		$(GO) test ./adapters -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./config -run '^$$' -fuzz '^FuzzLoadBytes$$' -fuzztime $(FUZZTIME)

# The README's screenshots (docs/screenshots/*.png), taken by the browser
# tests in a headless Chromium (Debian: apt-get install chromium).
screenshots:
	ALERTGATE_SCREENSHOTS=docs/screenshots $(GO) test -count=1 -run '^TestBrowser$$/^OnCallWorkflow$$' ./test

docker:
	docker build -t alertgate:$(VERSION) .

clean:
	rm -rf bin data
