# meshlab — the two commands a person types on a fresh machine are `make up`
# and `make test`; both install what is missing and build first.

SWIFT       ?= swift
BIN         := bin/meshlab
BENCH_BIN   := bin/meshlab-bench
RELEASE     := $(SWIFT) build -c release --static-swift-stdlib
# Debian packages: what meshlab needs at run time, then what the tests and
# benchmarks use as real peers (curl, wrk, python3's yaml, nginx, HAProxy).
RUN_PKGS    := libssl-dev pkg-config iproute2 iptables curl
TEST_PKGS   := wrk python3 python3-yaml openssl dnsutils
BENCH_PKGS  := nginx-light haproxy wrk

.PHONY: all deps test-deps bench-deps build test up down bench clean

all: build

deps:
	@scripts/ensure-packages $(RUN_PKGS)
	@command -v $(SWIFT) >/dev/null || { echo "meshlab: no Swift toolchain on PATH: install Swift 6.1 or later (https://www.swift.org/install/linux/)" >&2; exit 1; }

test-deps: deps
	@scripts/ensure-packages $(TEST_PKGS)

bench-deps: deps
	@scripts/ensure-packages $(BENCH_PKGS)

build: deps
	$(RELEASE) --product meshlab
	$(RELEASE) --product meshlab-bench
	@mkdir -p bin
	@cp "$$($(SWIFT) build -c release --show-bin-path)/meshlab" $(BIN)
	@cp "$$($(SWIFT) build -c release --show-bin-path)/meshlab-bench" $(BENCH_BIN)
	@echo "built $(BIN)"

# The Lab/ experiments run whole labs (sidecars, thousands of requests):
# alone, after the rest, so that neither starves the other on a small machine.
test: test-deps build
	MESHLAB_BIN=$(CURDIR)/$(BIN) $(SWIFT) test --skip LabExperimentRunTests
	MESHLAB_BIN=$(CURDIR)/$(BIN) $(SWIFT) test --skip-build --filter LabExperimentRunTests

up: build
	$(BIN) up --demo bookinfo

down:
	@if [ -x $(BIN) ]; then $(BIN) down; else echo "meshlab: not built, nothing to stop"; fi

bench: bench-deps build
	$(BENCH_BIN)
	$(BENCH_BIN) coldstart --meshlab $(BIN)

clean:
	rm -rf .build bin
