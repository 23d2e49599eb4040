# The README's two commands: `make demo` and `make test`.
GO ?= go
BIN := bin/llms
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build demo test lint bench e2e

# build: llms and, beside it, llms-mcp, the MCP server `llms mcp` execs.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-X github.com/llm-secrets/llms/internal/cli.Version=$(VERSION)" -o bin/ ./cmd/llms ./cmd/llms-mcp

# demo: a throwaway store, one secret, one command that uses it, redacted;
# a delegated token; an agent in agent mode.
demo: build
	@./scripts/demo.sh $(BIN)

# test: what CI runs (after .ci/run installs age, pymacaroons and staticcheck).
# The CLI tests wait on child processes and fsync far more than they use CPU,
# so more of them run at once than there are cores (-parallel).
# The agent-mode attack tests run on their own, verbose, so that every
# attempt and its outcome is in the CI log.
test: lint
	$(GO) test -race -count=1 -timeout 20m -parallel 8 -skip '^TestAgentModeAttacks' ./...
	$(GO) test -race -count=1 -timeout 20m -v -run '^TestAgentModeAttacks' ./cmd/llms

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) mod tidy -diff >/dev/null || { $(GO) mod tidy -diff; echo "go.mod/go.sum: run 'go mod tidy'"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench: build
	./bench/run.sh

# e2e: the agents' real CLIs (pinned in e2e/clients) against llms and a
# scripted model; .ci/run runs it after make test. docs/E2E.md says what.
e2e:
	./e2e/run.sh
