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
TELEGRAF := $(TOOLS)/bin/telegraf
TELEGRAF_VERSION := 1.37.2
TELEGRAF_TAGS := custom,inputs.mqtt_consumer,outputs.influxdb_v2,parsers.json_v2
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PKGS    := ./...
export PATH := $(TOOLS)/bin:$(PATH):/usr/sbin

.PHONY: all test tools telegraf mosquitto chromium systemd rtsp-server vet fmt-check unit cross deploy-test bench bench-monitor bench-ingest fuzz soak build release demo clean screenshots

all: build

test: tools vet fmt-check unit cross deploy-test

## tools: install what the tests need (idempotent)
tools: $(INFLUXD) mosquitto chromium systemd rtsp-server

## rtsp-server: GStreamer's RTSP server with Python bindings, a real RTSP server on
## loopback for the camera prober's tests (Debian dropped live555's livemedia-utils)
RTSP_PKGS := gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good
rtsp-server:
	@if /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1; then :; else \
		echo "installing GStreamer's RTSP server from Debian's packages"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(RTSP_PKGS); \
	fi

$(INFLUXD):
	@echo "building influxd $(INFLUXDB_VERSION) into $(TOOLS)/bin (once; about a minute)"
	GOBIN=$(TOOLS)/bin CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install github.com/influxdata/influxdb/cmd/influxd@$(INFLUXDB_VERSION)

## telegraf: Telegraf $(TELEGRAF_VERSION) for the drain benchmark's comparison (bench only: not
## make test's), with only the plugins it uses; stripped, as Telegraf's release builds.
## Skipped when the binary there says it is this version.
telegraf:
	@if $(TELEGRAF) --version 2>/dev/null | grep -qx 'Telegraf $(TELEGRAF_VERSION)'; then :; else \
		echo "building telegraf $(TELEGRAF_VERSION) (tags $(TELEGRAF_TAGS)) into $(TOOLS)/bin"; \
		time GOBIN=$(TOOLS)/bin CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath -tags $(TELEGRAF_TAGS) \
			-ldflags '-s -w -X github.com/influxdata/telegraf/internal.Version=$(TELEGRAF_VERSION)' \
			github.com/influxdata/telegraf/cmd/telegraf@v$(TELEGRAF_VERSION); \
	fi

mosquitto:
	@if command -v mosquitto >/dev/null 2>&1; then :; else \
		echo "installing mosquitto from Debian's packages"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends mosquitto; \
	fi

## chromium: the browser test of the status page drives Debian's Chromium
chromium:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; else \
		echo "installing chromium from Debian's packages (for the status page's browser test)"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium; \
	fi

## systemd: systemd-analyze checks the Pi's unit file in deploy-test
systemd:
	@if command -v systemd-analyze >/dev/null 2>&1; then :; else \
		echo "installing systemd from Debian's packages (for systemd-analyze verify)"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends systemd; \
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
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags nodemo -o /dev/null ./cmd/saqshy-gateway

## deploy-test: install.sh into a temporary root (fake system commands), twice,
## then systemd-analyze verify --root on the installed unit
deploy-test: systemd
	bash deploy/pi/test-install.sh

## build: static binaries for every target into bin/
build:
	@mkdir -p bin
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
	for t in arm64: arm:7 arm:6; do arch=$${t%%:*}; arm=$${t##*:}; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=$$arm go build -tags nodemo -trimpath -o bin/linux-$$arch$$arm/ ./cmd/... || exit 1; done

## release: static binaries (-tags nodemo: without the demo's broker and simulator) for linux/arm64, arm/v7, arm/v6 and amd64, .deb packages
## (arm64, armhf = the ARMv6 build, which runs on every 32-bit Raspberry Pi OS, and
## amd64) built with nfpm, and SHA256SUMS, into dist/
VERSION ?= 0.1.0
DEB_VERSION := $(VERSION)+git$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
NFPM := go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
release:
	rm -rf dist && mkdir -p dist
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags nodemo -trimpath -ldflags='-s -w' -o dist/saqshy-gateway-linux-arm64 ./cmd/saqshy-gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go build -tags nodemo -trimpath -ldflags='-s -w' -o dist/saqshy-gateway-linux-armv7 ./cmd/saqshy-gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 go build -tags nodemo -trimpath -ldflags='-s -w' -o dist/saqshy-gateway-linux-armv6 ./cmd/saqshy-gateway
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -tags nodemo -trimpath -ldflags='-s -w' -o dist/saqshy-gateway-linux-amd64 ./cmd/saqshy-gateway
	sed 's#/usr/local/bin/#/usr/bin/#g' deploy/pi/saqshy-gateway.service > dist/saqshy-gateway.service
	for t in arm64:arm64 armhf:armv6 amd64:amd64; do \
		sed -e "s#\$${DEB_ARCH}#$${t%%:*}#" -e "s#\$${VERSION}#$(DEB_VERSION)#" \
			-e "s#\$${BINARY}#dist/saqshy-gateway-linux-$${t##*:}#" -e "s#\$${UNIT}#dist/saqshy-gateway.service#" \
			deploy/nfpm.yaml > dist/nfpm.yaml && \
		$(NFPM) package --config dist/nfpm.yaml --packager deb --target dist/ || exit 1; \
	done
	rm dist/saqshy-gateway.service dist/nfpm.yaml
	cd dist && sha256sum saqshy-gateway-linux-* *.deb > SHA256SUMS && cat SHA256SUMS

## bench: the benchmarks whose figures are in docs/BENCHMARKS.md
## (the drain benchmark 3 times: the gateway and Telegraf interleaved, medians reported)
bench: tools telegraf
	go test -run='^$$' -bench=DrainPrequeued -benchtime=3x -count=1 -timeout 60m ./gateway/ | tee bench-gateway.txt
	go test -run='^$$' -bench='Live|AlertLatency|CentreDayUplink|IdleCentre' -benchtime=1x -count=1 -timeout 60m ./gateway/ | tee -a bench-gateway.txt
	go test -run='^$$' -bench=. -count=1 -timeout 20m ./gateway/decode ./gateway/spool ./gateway/influxsink | tee bench-units.txt

## bench-monitor: the monitoring room at scale (docs/BENCHMARKS.md); CENTRES, STEP, DAYS,
## BENCH_DATA (a directory: load once, reuse for 2 hours)
CENTRES ?= 200
STEP    ?= 60m
DAYS    ?= 30
BENCH_DATA ?=
bench-monitor: tools
	SAQSHY_BENCH_CENTRES=$(CENTRES) SAQSHY_BENCH_STEP=$(STEP) SAQSHY_BENCH_DAYS=$(DAYS) SAQSHY_BENCH_DATA=$(BENCH_DATA) \
		go test -run='^$$' -bench=Scale -benchtime=5x -count=1 -timeout 120m -v ./gateway/central/monitor | tee bench-monitor.txt

## bench-ingest: the verifying ingest at national scale (docs/BENCHMARKS.md): one run
## per count in GATEWAYS, BENCH_SECONDS long, a tenth of the gateways back from an
## OUTAGE_MIN-minute outage half-way; each gateway sends a batch every BATCH_SECONDS; the
## steady window runs from WARM_SECONDS to half-way; INGEST_PROFILE=file writes the
## ingest's CPU profile
GATEWAYS      ?= 2000,20000
BENCH_SECONDS ?= 180
OUTAGE_MIN    ?= 60
BATCH_SECONDS ?= 10
WARM_SECONDS  ?= 70
INGEST_PROFILE ?=
bench-ingest: tools
	SAQSHY_BENCH_GATEWAYS=$(GATEWAYS) SAQSHY_BENCH_SECONDS=$(BENCH_SECONDS) SAQSHY_BENCH_OUTAGE_MIN=$(OUTAGE_MIN) \
		SAQSHY_BENCH_BATCH_SECONDS=$(BATCH_SECONDS) SAQSHY_BENCH_WARM_SECONDS=$(WARM_SECONDS) \
		SAQSHY_BENCH_CPUPROFILE=$(INGEST_PROFILE) \
		go test -run='^$$' -bench=IngestNational -benchtime=1x -count=1 -timeout 30m -v ./gateway/central/ingest | tee bench-ingest.txt

## soak: the zero-loss soak test of issue 18 (not part of `make test`): SOAK (default
## 30m, the acceptance run) of broker SIGKILLs, InfluxDB hung behind a stalling proxy
## and SIGSTOPped, gateway SIGKILLs and a full spool disk (a tmpfs: run as root) while
## a simulated centre publishes; every acknowledged reading must land. SOAK_HOLD is
## how long each fault lasts (default 8s). Figures in docs/BENCHMARKS.md.
SOAK ?= 30m
SOAK_HOLD ?= 8s
soak: tools
	go vet -tags soak ./gateway/
	set -o pipefail; SAQSHY_SOAK=$(SOAK) SAQSHY_SOAK_HOLD=$(SOAK_HOLD) go test -tags soak -run '^TestSoak$$' -v -count=1 -timeout 0 ./gateway/ | tee soak.txt

## fuzz: a short run of every fuzz target, then a table target → execs, execs/s;
## fails if a target made fewer than FUZZMIN executions (docs/BENCHMARKS.md).
## FUZZMINIMIZETIME bounds the minimising of each new input (go's default, 60s, is
## longer than the run, and the engine reported 0 execs/s while minimising).
FUZZTIME ?= 20s
FUZZMIN ?= 100
FUZZMINIMIZETIME ?= 1s
FUZZ_PKGS = $(shell grep -rl --include='*_test.go' '^func Fuzz' gateway | xargs -n1 dirname | sort -u | sed 's,^,./,')
fuzz:
	set -o pipefail; FUZZTIME=$(FUZZTIME) FUZZMIN=$(FUZZMIN) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) bash scripts/fuzz.sh $(FUZZ_PKGS) | tee fuzz.txt

demo:
	go run ./cmd/saqshy-gateway demo

## screenshots: rewrite docs/screenshots/ from the browser tests (the status page and every monitor
## page in ru, kk and en at a phone's and a desktop's size, light and dark; the demo's first minute)
screenshots: chromium $(INFLUXD)
	go test -count=1 -run 'TestStatusPageInBrowser|TestDemoWholeSystem' ./cmd/saqshy-gateway -args -screenshots
	go test -count=1 -run 'TestMonitor/Browser' ./gateway/central/monitor -args -screenshots

clean:
	rm -rf bin dist bench-*.txt fuzz.txt soak.txt
