# oidcctl: see README.md.
GO          ?= go
BIN         ?= bin/oidcctl
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
TESTFLAGS   ?= -race -count=1 -timeout 30m

.PHONY: build run demo test test-deps bench lint clean

build:
	$(GO) build -o $(BIN) ./cmd/oidcctl

## run: the console on the default database (pass ARGS="..." for a command)
run: build
	./$(BIN) $(ARGS)

## demo: the test provider, a demo API and a demo database, until ctrl+c
demo: build
	$(GO) build -o bin/oidcctl-demo ./core/oidctest/cmd/oidcctl-demo
	./bin/oidcctl-demo --oidcctl $(BIN)

## test: installs what the tests need (Debian packages), then runs every test
test: test-deps
	$(GO) test $(TESTFLAGS) ./...

test-deps:
	./scripts/test-deps.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }

clean:
	rm -rf bin
