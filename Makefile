# permsets: make run starts on the default example; make test runs every test.
GO       ?= go
BIN      := bin
EXAMPLE  ?= examples/nation
FUZZTIME ?= 10s
# REGAL is a Regal binary (v0.42.0; the module proxy does not serve it); make lint skips Regal
# when there is none.
REGAL    ?= ../shared/tools/regal

.PHONY: run test build bench fuzz lint vet clean opa soak loadtest

# Every fuzz target, as package:Name; make test runs each for FUZZTIME, make fuzz for FUZZ_LONG.
FUZZ_TARGETS := config:FuzzParsePermission config:FuzzParseFile engine:FuzzDecisionInput \
	daemon/server:FuzzDecisionBody daemon/live:FuzzWebhook plan:FuzzLoadCustomRules \
	cmd/permsctl:FuzzReadExport edit:FuzzAppendToList engine:FuzzReadBundle internal/credentials:FuzzRedact \
	daemon/decisionlog:FuzzMask internal/textfmt:FuzzMarkdown authzen:FuzzDecode
# FUZZMINTIME bounds the minimisation of each new input: an input of FuzzReadBundle (a whole
# bundle, tens of KB) otherwise takes the default minute to minimise, and a brief run does nothing
# else.
FUZZMINTIME ?= 5s
fuzz-each = @GO=$(GO) ./scripts/fuzz.sh $(1) $(FUZZMINTIME) $(FUZZ_TARGETS)

## run: the decision daemon on examples/nation, on 127.0.0.1:8181 (Ctrl-C stops it)
run: build
	$(BIN)/permsd --dir $(EXAMPLE)

## build: the binaries, in bin/
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: every test, the brief fuzz runs, vet and gofmt (under 10 minutes on 2 cores)
test: lint opa
	$(GO) test -count=1 ./...
	$(call fuzz-each,$(FUZZTIME))

## opa: a stock opa binary built from the module proxy (cached; the compatibility test uses it)
opa:
	@./scripts/opa.sh

## lint: gofmt and go vet; opa check --strict, opa fmt, opa test and Regal over policies/
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@opa=$$(./scripts/opa.sh) && \
	  $$opa check --strict policies/ && \
	  out=$$($$opa fmt -l policies/) && if [ -n "$$out" ]; then echo "opa fmt would change:"; echo "$$out"; exit 1; fi && \
	  $$opa test policies/
	@if [ -x "$(REGAL)" ]; then $(REGAL) lint policies/; else echo "regal not found at $(REGAL); skipped"; fi

## fuzz: the fuzz targets for longer (FUZZ_LONG=30m make fuzz)
FUZZ_LONG ?= 5m
fuzz:
	$(call fuzz-each,$(FUZZ_LONG))

## bench: Go benchmarks (on the large generated repository) and validate timings on three sizes
BENCH_DIR ?= .cache/bench
bench: build
	@[ -d $(BENCH_DIR)/large ] || $(BIN)/permsgen -out $(BENCH_DIR)/large -instances 10 -sets 10000 -users 100000 -roles 1000 -pairs 1000000
	$(GO) test -run '^$$' -bench 'Parse' -benchmem ./config
	PERMSETS_BENCH_DIR=$(abspath $(BENCH_DIR))/large $(GO) test -run '^$$' -bench 'LoadDir' -benchmem -benchtime 3x ./config
	PERMSETS_BENCH_DIR=$(abspath $(BENCH_DIR))/large $(GO) test -run '^$$' -bench 'Allow$$|Decision$$' -benchtime 20000x -count 4 ./engine
	PERMSETS_BENCH_DIR=$(abspath $(BENCH_DIR))/large $(GO) test -run '^$$' -bench 'WhoCan' -benchtime 200x ./engine
	PERMSETS_BENCH_DIR=$(abspath $(BENCH_DIR))/large $(GO) test -run '^$$' -bench 'Build|StockOPANaive' -benchtime 3x ./engine
	PERMSETS_BENCH_DIR=$(abspath $(BENCH_DIR))/large $(GO) test -run '^$$' -bench 'Audit' -benchmem -benchtime 3x ./audit
	BENCH_DIR=$(BENCH_DIR) ./scripts/bench-validate.sh
	LARGE=$(BENCH_DIR)/large ./scripts/bench-plan.sh
	LARGE=$(BENCH_DIR)/large ./scripts/bench-test.sh

## loadtest: permsd against stock opa run --server on the same bundle, small and large scale
LOAD_DURATION ?= 10s
loadtest: build opa
	$(BIN)/permsload -size small -duration $(LOAD_DURATION)
	$(BIN)/permsload -size large -duration $(LOAD_DURATION)

## soak: the full permsd reliability test (50 valid and 10 broken reloads under load)
soak:
	PERMSD_SOAK=1 $(GO) test -count=1 -run 'TestReloadUnderLoad' -v -timeout 20m ./cmd/permsd

clean:
	rm -rf $(BIN) .cache
