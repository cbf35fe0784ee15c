# Saqshy — build, test and benchmark.
#
# `make test` works on a fresh Debian machine with Go: it installs Mosquitto from
# Debian's packages and builds InfluxDB 1.8.10 into .tools/ if they are missing
# (quickly skipped when present), then vets, checks formatting, runs every test with
# the race detector against real Mosquitto and InfluxDB, and cross-builds for the Pi.

SHELL   := /bin/bash
TOOLS   := $(CURDIR)/.tools
INFLUXD := $(TOOLS)/bin/influxd
INFLUXDB_VERSION := v1.8.10
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PKGS    := ./...
export PATH := $(TOOLS)/bin:$(PATH):/usr/sbin

.PHONY: all test tools mosquitto vet fmt-check unit cross bench fuzz build demo clean

all: build

test: tools vet fmt-check unit cross

## tools: install what the tests need (idempotent)
tools: $(INFLUXD) mosquitto

$(INFLUXD):
	@echo "building influxd $(INFLUXDB_VERSION) into $(TOOLS)/bin (once; about a minute)"
	GOBIN=$(TOOLS)/bin CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/influxdata/influxdb/cmd/influxd@$(INFLUXDB_VERSION)

mosquitto:
	@if command -v mosquitto >/dev/null 2>&1; then :; else \
		echo "installing mosquitto from Debian's packages"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends mosquitto; \
	fi

vet:
	go vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	go test -race -count=1 -timeout 40m $(PKGS)

## cross: the Pi targets must keep building with CGO off
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o /dev/null ./cmd/...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go build -o /dev/null ./cmd/...
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -o /dev/null ./cmd/...

## build: static binaries for every target into bin/
build:
	@mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
	for t in arm64: arm:7 arm:6; do arch=$${t%%:*}; arm=$${t##*:}; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=$$arm go build -trimpath -o bin/linux-$$arch$$arm/ ./cmd/... || exit 1; done

## bench: the benchmarks whose figures are in docs/BENCHMARKS.md
bench: tools
	go test -run='^$$' -bench=. -benchtime=1x -count=1 -timeout 60m ./gateway/ | tee bench-gateway.txt
	go test -run='^$$' -bench=. -count=1 -timeout 20m ./gateway/decode ./gateway/spool ./gateway/influxsink | tee bench-units.txt

## fuzz: a short run of every fuzz target
FUZZTIME ?= 20s
fuzz:
	@for pkg in ./gateway/decode ./gateway/spool ./gateway/config ./gateway/alert ./gateway/alert/notify; do \
		for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; done

demo:
	go run ./cmd/saqshy-gateway demo

clean:
	rm -rf bin bench-*.txt
