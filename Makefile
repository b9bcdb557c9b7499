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

## test: installs what the tests need (Debian packages), lints (vet, staticcheck, gofmt), then runs every test
test: test-deps lint
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

## install: the binary, its manual pages, shell completions and the systemd
## unit under PREFIX (default /usr/local; DESTDIR for packaging)
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
GEN         ?= bin/gen

.PHONY: install uninstall

install: build
	rm -rf $(GEN) && mkdir -p $(GEN)/man1
	$(abspath $(BIN)) man $(GEN)/man1
	$(abspath $(BIN)) completion bash > $(GEN)/oidcctl.bash
	$(abspath $(BIN)) completion zsh > $(GEN)/_oidcctl
	$(abspath $(BIN)) completion fish > $(GEN)/oidcctl.fish
	$(abspath $(BIN)) serve --print-unit | sed 's|/usr/local/bin/oidcctl|$(BINDIR)/oidcctl|g' > $(GEN)/oidcctl.service
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/oidcctl
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(GEN)/man1/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -D -m 0644 $(GEN)/oidcctl.bash $(DESTDIR)$(BASHCOMPDIR)/oidcctl
	install -D -m 0644 $(GEN)/_oidcctl $(DESTDIR)$(ZSHCOMPDIR)/_oidcctl
	install -D -m 0644 $(GEN)/oidcctl.fish $(DESTDIR)$(FISHCOMPDIR)/oidcctl.fish
	install -D -m 0644 $(GEN)/oidcctl.service $(DESTDIR)$(UNITDIR)/oidcctl.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/oidcctl $(DESTDIR)$(MANDIR)/man1/oidcctl.1 $(DESTDIR)$(MANDIR)/man1/oidcctl-*.1
	rm -f $(DESTDIR)$(BASHCOMPDIR)/oidcctl $(DESTDIR)$(ZSHCOMPDIR)/_oidcctl $(DESTDIR)$(FISHCOMPDIR)/oidcctl.fish
	rm -f $(DESTDIR)$(UNITDIR)/oidcctl.service
