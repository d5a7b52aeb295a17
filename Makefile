# WG Punch. The two commands a new machine needs:
#   make run    installs build prerequisites, builds bin/wgpunch and starts the app
#   make test   installs test prerequisites and runs every test (lab included when root)
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
export GOFLAGS ?= -mod=readonly

PKG      := github.com/wgpunch/wgpunch
VERSION  ?= $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT)
BIN      := bin/wgpunch
GO_TEST  := go test -count=1
export WGPUNCH_BIN := $(CURDIR)/$(BIN)

.PHONY: all build run test test-unit test-fuzz test-cross test-packages lab bench deps-run deps-test deps-dist clean

all: build

deps-run:
	@scripts/deps.sh run
deps-test:
	@scripts/deps.sh test
deps-dist:
	@scripts/deps.sh dist

# The GUI binary (cgo: Fyne needs OpenGL/X11 headers; the first build takes a few minutes).
build: deps-run
	go build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/trayapp

# Starts the tray app. Tunnels need the privileged daemon: see README "Running".
run: build
	./$(BIN) $(ARGS)

test: deps-test build test-unit test-fuzz test-cross test-packages lab

# The .deb and a CLI-only .exe/.msi, built and checked (PE resources, msiinfo,
# osslsigncode verify, dpkg -i / -r on this machine). The full GUI builds are
# `make dist-linux` / `make dist-windows`.
test-packages: deps-test
	WGPUNCH_DIST_TEST=1 $(GO_TEST) -timeout 30m -v ./installer/

# Unit and integration tests of every package except the network lab.
# tunnel/ and ui/ must pass without cgo and without a display; the real-window
# tests (ui/xvfbtest) and cmd/trayapp's locale test run the cgo binary
# ($(BIN), WGPUNCH_BIN), so this builds it first.
test-unit: build
	go vet ./...
	CGO_ENABLED=0 $(GO_TEST) -timeout 20m $$(go list ./... | grep -v -e '/cmd/trayapp$$' -e '/ui/xvfbtest$$' -e '/lab$$')
	CGO_ENABLED=0 $(GO_TEST) -tags nogui -timeout 20m ./cmd/trayapp/
	$(GO_TEST) -p 1 -timeout 20m ./ui/xvfbtest/

# Short fuzzing of the two parsers that read untrusted text.
test-fuzz:
	$(GO_TEST) -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=10s ./tunnel/conf/
	$(GO_TEST) -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=10s ./tunnel/invite/

# Other platforms must keep compiling: go vet of the Windows and macOS code.
test-cross:
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet ./tunnel/... ./internal/... ./assets/... ./ui/trayicon/
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go vet -tags nogui ./cmd/trayapp/
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 go vet ./tunnel/... ./internal/... ./assets/...

# The network lab: NAT routers, STUN servers and wgpunch daemons in network
# namespaces. Needs root; skipped (with the reason) otherwise.
lab: deps-test build
	$(GO_TEST) -p 1 -v -timeout 30m ./lab/

bench: deps-test build
	$(GO_TEST) -run='^$$' -bench=. -benchmem ./tunnel/...
	$(GO_TEST) -p 1 -run='^$$' -bench=. -benchtime=1x -timeout 30m -v ./lab/
	$(GO_TEST) -p 1 -run='^$$' -bench=GUI -benchtime=1x -timeout 20m -v ./ui/xvfbtest/

clean:
	rm -rf bin dist lab.out

-include mk/*.mk

# Packaging (mk/dist.mk) installs its own prerequisites when run from here.
dist-windows: deps-dist
dist-linux: deps-run
