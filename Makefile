# The front door. `make demo` runs the pair locally; `make test` runs every check.
# Tools (moto's server, cargo-lambda) live in a venv inside the repo, pinned below.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_BIN := $(CURDIR)/$(VENV)/bin
MOTO_VERSION := 5.2.5
CARGO_LAMBDA_VERSION := 1.9.2
CFN_GUARD_VERSION := 3.2.1
SAM_CLI_VERSION := 1.170.0
SAM_TRANSLATOR_VERSION := 1.115.0
CFN_GUARD := $(CURDIR)/.tools/bin/cfn-guard
CARGO_DENY_VERSION := 0.20.2
CARGO_DENY := $(CURDIR)/.tools/bin/cargo-deny
# The RustSec advisory database: cargo-deny fetches it when ADVISORY_DB is empty (online);
# ADVISORY_DB names a local snapshot to use instead, offline (.ci/run sets it).
ADVISORY_DB ?=
STAGE ?= dev
# Cargo's target directory (CARGO_TARGET_DIR is followed).
TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(abspath $(CARGO_TARGET_DIR)),$(CURDIR)/target)
STAMP := $(VENV)/.installed-$(MOTO_VERSION)-$(CARGO_LAMBDA_VERSION)

export E2E_VENV_BIN := $(VENV_BIN)
export CARGO_TERM_COLOR ?= never

.PHONY: help venv sam-translator browser-deps oidc-deps valgrind-deps build-debug demo watch check test lint unit audit e2e soak infra-check build deploy-keys deploy-app destroy bench bench-instructions bench-peers bench-cold bench-revocations fuzz clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP):
	@echo "==> creating $(VENV) with moto[server]==$(MOTO_VERSION) and cargo-lambda==$(CARGO_LAMBDA_VERSION)"
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)' 'cargo-lambda==$(CARGO_LAMBDA_VERSION)'
	@touch $@

venv: $(STAMP) ## Install the local stand-ins for AWS into .venv

browser-deps: ## Debian's chromium and chromium-driver for the browser suite (apt, only when missing)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	echo "==> chromium or chromedriver missing: installing Debian's chromium and chromium-driver with apt-get$${sudo:+ (needs root: through sudo)}"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver >/dev/null && \
	/usr/bin/chromium --version && /usr/bin/chromedriver --version

oidc-deps: ## The local OpenID Provider for the sign-in suites: oidc-provider from npm, pinned by tests/op/package-lock.json, into tests/op/node_modules
	@test tests/op/node_modules/.package-lock.json -nt tests/op/package-lock.json || { \
	  echo "==> npm ci in tests/op (oidc-provider, pinned by its lock file)"; \
	  cd tests/op && npm ci --no-audit --no-fund --silent; }

build-debug: ## Build the functions, the examples, the local gateway and the jwt-session tool (debug)
	@echo "==> building authorizer, secrets-fn, the examples, gateway, jwt-session"
	cargo build --locked -p authorizer -p secrets-fn -p login-example -p orders-example -p gateway -p jwt-session --features jwt-session/cli

demo: venv build-debug ## Run the pair locally and print its decisions
	@cargo run --locked --quiet -p e2e --bin demo

watch: venv build-debug ## The local API: moto, cargo lambda watch and the local API Gateway, until Ctrl-C
	@cargo run --locked --quiet -p e2e --bin stack

lint: ## cargo fmt --check, clippy -D warnings, the fuzz lock file up to date, no module cycles
	@echo "==> cargo fmt --check"
	cargo fmt --all -- --check
	@echo "==> cargo clippy --all-targets -- -D warnings"
	cargo clippy --locked --workspace --all-targets --features jwt-session/cli -- -D warnings
	@echo "==> the fuzz workspace's lock file is up to date with the crates it builds on"
	cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml > /dev/null
	@echo "==> module cycles (scripts/module_cycles.py)"
	$(PYTHON) scripts/module_cycles.py --self-test
	$(PYTHON) scripts/module_cycles.py

unit: ## Unit tests and the attack catalogue in-process (no AWS, no processes)
	@echo "==> unit tests"
	cargo test --locked -p jwt-session -p authorizer -p secrets-fn -p gateway -p orders-example -p login-example -p signin --features jwt-session/cli --lib --bins --tests
	@echo "==> the attack catalogue, in-process (every case; the end-to-end suite runs those needing the binaries)"
	cargo test --locked -p e2e --test catalogue

e2e: venv browser-deps oidc-deps build-debug ## End-to-end suites through cargo lambda watch and moto, the gateway and headless Chromium
	@echo "==> end-to-end suite"
	cargo test --locked -p e2e --tests -- --test-threads=2

soak: venv build-debug ## 10,000 sequential authorizations through cargo lambda watch (RSS, Secrets Manager calls)
	cargo test --locked -p e2e --test suite -- --ignored --nocapture lifecycle::soak

$(CFN_GUARD):
	@echo "==> installing cfn-guard $(CFN_GUARD_VERSION) into .tools/"
	cargo install --locked --quiet --root .tools cfn-guard --version $(CFN_GUARD_VERSION)

# SAM's translator (PyPI aws-sam-translator), for the policy rules on the transformed templates:
# installed into the venv when missing or at another version (aws-sam-cli pins its own).
sam-translator: venv
	@$(VENV_BIN)/python -c 'import sys, samtranslator; sys.exit(samtranslator.__version__ != "$(SAM_TRANSLATOR_VERSION)")' 2>/dev/null || { \
	  echo "==> installing aws-sam-translator $(SAM_TRANSLATOR_VERSION) into $(VENV)"; \
	  $(VENV_BIN)/pip install --quiet --disable-pip-version-check 'aws-sam-translator==$(SAM_TRANSLATOR_VERSION)'; }

infra-check: venv $(CFN_GUARD) sam-translator ## Lint both SAM templates, before and after SAM's transform, and prove the policy rules (widened copies, mutants)
	@echo "==> cfn-lint infra/template.yaml (app stack) and infra/keys.yaml (key stack), SAM transform applied"
	$(VENV_BIN)/cfn-lint infra/template.yaml infra/keys.yaml
	@echo "==> cfn-lint the same after SAM's transform (aws-sam-translator $(SAM_TRANSLATOR_VERSION), offline)"
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  $(VENV_BIN)/python infra/tests/sam_transform.py infra/template.yaml > "$$d/template.transformed.yaml" && \
	  $(VENV_BIN)/python infra/tests/sam_transform.py infra/keys.yaml > "$$d/keys.transformed.yaml" && \
	  $(VENV_BIN)/cfn-lint "$$d/template.transformed.yaml" "$$d/keys.transformed.yaml"
	@echo "==> cfn-guard rules on each stack before and after SAM's transform, their negative cases and mutants"
	$(VENV_BIN)/python infra/tests/policy_cases.py $(CFN_GUARD) \
	    --keys infra/keys.yaml infra/policy/common.guard infra/policy/keys.guard \
	    --keys-transformed infra/policy/keys-transformed.guard \
	    --app infra/template.yaml infra/policy/common.guard infra/policy/app.guard \
	    --app-transformed infra/policy/app-transformed.guard

$(CARGO_DENY):
	@echo "==> installing cargo-deny $(CARGO_DENY_VERSION) into .tools/"
	cargo install --locked --quiet --root .tools cargo-deny --version $(CARGO_DENY_VERSION)

audit: $(CARGO_DENY) ## cargo deny (advisories, yanked, bans, licences, sources) on both lock files: the live RustSec database, or offline the snapshot ADVISORY_DB names
ifeq ($(strip $(ADVISORY_DB)),)
	@echo "==> dependency audit against the live RustSec database (cargo-deny fetches it; set ADVISORY_DB=<snapshot> to work offline)"
	bash scripts/audit.sh $(CARGO_DENY) online
else
	@echo "==> dependency audit against the snapshot $(ADVISORY_DB), offline"
	bash scripts/audit.sh $(CARGO_DENY) offline $(ADVISORY_DB)
endif
	bash scripts/audit_choice_test.sh

# The book (docs/, book.toml): mdBook pinned, built without its default features (serve, watch,
# search), which CI does not need.
MDBOOK_VERSION := 0.5.4
MDBOOK := $(CURDIR)/.tools/bin/mdbook

$(MDBOOK):
	@echo "==> installing mdbook $(MDBOOK_VERSION) into .tools/"
	cargo install --locked --quiet --root .tools mdbook --version $(MDBOOK_VERSION) --no-default-features

.PHONY: docs
docs: $(MDBOOK) ## The book: links and anchors checked, the configuration and Make target tables and module maps against the code, rustdoc without broken links, then mdbook build into target/book
	@test "$$($(MDBOOK) --version)" = "mdbook v$(MDBOOK_VERSION)" || { echo "$(MDBOOK) is not mdbook $(MDBOOK_VERSION): rm it and run make docs again"; exit 1; }
	@echo "==> links (scripts/check_links.py)"
	$(PYTHON) scripts/check_links.py --self-test
	$(PYTHON) scripts/check_links.py
	@echo "==> the configuration and Make target tables, and the module maps, against the code (scripts/docs_drift.py)"
	$(PYTHON) scripts/docs_drift.py --self-test
	$(PYTHON) scripts/docs_drift.py
	@echo "==> rustdoc: the crates' module maps and API docs, no broken intra-doc link"
	RUSTDOCFLAGS="-D warnings" cargo doc --locked --quiet --no-deps --workspace --features jwt-session/cli
	@echo "==> mdbook build (target/book/index.html)"
	$(MDBOOK) build

check: lint docs unit infra-check ## Every check that needs neither root nor a network beyond the package registries (make test adds the audit, the end-to-end and browser suites, the instruction guard)
	@echo "==> check passed"

test: lint docs unit audit infra-check e2e bench-instructions ## Every check (bench-instructions: per-event instructions within 2 % of the committed baseline)
	@echo "==> all checks passed"

bench: bench-instructions ## Criterion benchmarks and instruction counts: the whole decision beside the bare signature check
	cargo bench --locked -p authorizer-bench --bench decision

valgrind-deps: ## Debian's valgrind for the instruction counts (apt, only when missing)
	@if command -v valgrind >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	echo "==> valgrind missing: installing Debian's valgrind with apt-get$${sudo:+ (needs root: through sudo)}"; \
	$$sudo apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq valgrind >/dev/null && valgrind --version

bench-instructions: build-debug valgrind-deps ## Instructions per event of the release authorizer as a process (callgrind), beside the bare verify; fails above +2 % of bench/instructions-baseline.json
	cargo build --locked --release -p authorizer --bin authorizer -p authorizer-bench --bin floor_loop
	cargo run --locked --quiet -p e2e --bin instructions

PYJWT_VERSION := 2.15.1
CRYPTOGRAPHY_VERSION := 50.0.2
bench-peers: venv ## This project's validation beside aws-jwt-verify, jose (Node.js) and PyJWT
	@test -d bench/peers/node_modules || (echo "==> npm install (aws-jwt-verify, jose)" && cd bench/peers && npm install --no-audit --no-fund --silent)
	@$(VENV_BIN)/python -c 'import jwt, cryptography' 2>/dev/null || $(VENV_BIN)/pip install --quiet --disable-pip-version-check 'PyJWT==$(PYJWT_VERSION)' 'cryptography==$(CRYPTOGRAPHY_VERSION)'
	cargo run --locked --release --quiet -p authorizer-bench --bin peers -- bench/peers $(VENV_BIN)/python

bench-cold: venv build ## Cold start of the release binaries: init, first invoke, peak RSS, zip sizes
	cargo build --locked --release -p authorizer -p secrets-fn -p jwt-session --features jwt-session/cli
	E2E_BIN_DIR=$(TARGET_DIR)/release cargo run --locked --release --quiet -p e2e --bin bench_cold

bench-revocations: venv build-debug ## Revocation at volume (moto): a 100,000 burst beside a warm authorizer, a cold start, 10/s for STEADY_SECONDS
	cargo build --locked --release -p authorizer
	cargo run --locked --quiet -p e2e --bin revocation_cost

FUZZ_SECONDS ?= 60
CARGO_FUZZ_VERSION := 0.13.2
fuzz: ## Run each fuzz target for FUZZ_SECONDS (default 60) with AddressSanitizer
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	@mkdir -p target
	@for t in cookie token differential handler paseto flow_cookie; do \
	  echo "==> fuzzing $$t for $(FUZZ_SECONDS)s (log: target/fuzz-$$t.log)"; \
	  mkdir -p fuzz/corpus/$$t; \
	  seeds=seeds/$$t; if [ $$t = handler ]; then seeds=../events; fi; \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O $$t corpus/$$t $$seeds -- \
	      -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1) > target/fuzz-$$t.log 2>&1; \
	  rc=$$?; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' target/fuzz-$$t.log; \
	  if [ $$rc -ne 0 ]; then tail -40 target/fuzz-$$t.log; exit 1; fi; \
	done

build: venv ## Release zips for arm64 Lambda (cargo lambda build), with their sizes
	@rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	@echo "==> cargo lambda build --release --arm64"
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/cargo-lambda lambda build --release --arm64 --output-format zip --bin authorizer --bin secrets-fn
	@for f in $(TARGET_DIR)/lambda/*/bootstrap.zip; do printf '%-40s %8d bytes\n' "$$f" "$$(stat -c %s $$f)"; done

$(VENV_BIN)/sam:
	$(VENV_BIN)/pip install --quiet --disable-pip-version-check 'aws-sam-cli==$(SAM_CLI_VERSION)'

deploy-keys: venv $(VENV_BIN)/sam ## sam build + deploy of the KEY stack of STAGE (FIRST=1 before the app stack exists): needs AWS credentials
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/sam build --template-file infra/keys.yaml --build-dir .aws-sam/keys --config-file infra/samconfig.toml --config-env $(STAGE)-keys
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/sam deploy --template-file .aws-sam/keys/template.yaml --config-file infra/samconfig.toml --config-env $(STAGE)-keys$(if $(FIRST),-first)

deploy-app: venv $(VENV_BIN)/sam ## sam build + deploy of the APP stack of STAGE (after its key stack): needs AWS credentials
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/sam build --template-file infra/template.yaml --build-dir .aws-sam/app --config-file infra/samconfig.toml --config-env $(STAGE)-app
	PATH="$(VENV_BIN):$$PATH" $(VENV_BIN)/sam deploy --template-file .aws-sam/app/template.yaml --config-file infra/samconfig.toml --config-env $(STAGE)-app

destroy: venv $(VENV_BIN)/sam ## Delete the app stack, then the key stack, of STAGE (the revocation table is kept)
	$(VENV_BIN)/sam delete --config-file infra/samconfig.toml --config-env $(STAGE)-app
	$(VENV_BIN)/sam delete --config-file infra/samconfig.toml --config-env $(STAGE)-keys

clean: ## Remove build output and the venv
	cargo clean
	rm -rf $(VENV)
