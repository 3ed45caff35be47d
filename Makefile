# StreamScore: `make demo` runs the embedded demo, `make test` runs the tests.
# Both install what is missing (Debian packages) first.

SWIFT ?= swift
APT_PACKAGES := librdkafka-dev libhiredis-dev pkg-config kcat redis-server python3-venv prometheus
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO_ARGS ?=
# Release builds target the CPU this project runs on (x86-64 with AVX2 and FMA: Haswell
# and later) and turn on the fused multiply-add kernels. For an older or another CPU:
#   make release RELEASE_CPU_FLAGS=
# (the kernels are plain Swift SIMD and stay correct on any target, just slower).
ifeq ($(shell uname -m),x86_64)
RELEASE_CPU_FLAGS ?= -Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DSTREAMSCORE_FMA -Xswiftc -DSTREAMSCORE_AVX2
endif

.PHONY: deps build release demo test check deploy-check faults fuzz clean bench-e2e

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product streamscore $(RELEASE_CPU_FLAGS)

demo: release
	.build/release/streamscore demo $(DEMO_ARGS)

# The engine's and the decoder's suites run twice: with the portable kernels (the whole
# test run) and built for this CPU as `make release` is (FMA, AVX2 gathers), so both are
# checked against the libraries' predictions, bit-identical batches, the fuzz corpus and
# zero allocations per call.
ENGINE_SUITES := ModelFixtureTests|InferenceTests|SubnormalTests|VectorMathTests|AllocationTests|FeatureSpecTests|EventDecoderTests|DemoFeatureTests|FuzzCorpusTests

# The Python peer of `bench e2e` (confluent-kafka, ONNX Runtime), which the smoke test runs.
PEER_VENV := .venv-peer/bin/python
$(PEER_VENV): scripts/requirements-peer.txt
	rm -rf .venv-peer
	python3 scripts/peer_worker.py --help > /dev/null

# A real Kafka-protocol broker process (noida-db) for the backfill's time bounds and the
# exactly-once semantics (read_committed, offsets in transactions), which
# librdkafka's mock cluster cannot look up. Best effort: when pip cannot install it, the
# tests that need it are skipped and say why.
BROKER_VENV := .venv-broker/bin/noida-db
$(BROKER_VENV): scripts/requirements-broker.txt
	rm -rf .venv-broker
	python3 -m venv .venv-broker && .venv-broker/bin/pip install -q -r scripts/requirements-broker.txt \
	  || { rm -rf .venv-broker; echo "noida-db could not be installed: the backfill time-range and exactly-once tests will be skipped"; }

# The deployment kit's validators (check-jsonschema with the Compose spec,
# kubernetes-validate, hadolint) and promtool (Debian's prometheus package, which also
# gives DeployTopologyTests its Prometheus server).
DEPLOY_VENV := .venv-deploy/bin/check-jsonschema
$(DEPLOY_VENV): scripts/requirements-deploy.txt
	rm -rf .venv-deploy
	python3 -m venv .venv-deploy && .venv-deploy/bin/pip install -q -r scripts/requirements-deploy.txt

deploy-check: deps $(DEPLOY_VENV)
	sh scripts/check_deploy.sh

# The suites that start processes (the real binary, the end-to-end bench, the demo, the
# metrics endpoint scraped over HTTP): in `make test`, not in `make check`.
PROCESS_TESTS := WorkerProcessTests|DeployTopologyTests|ExactlyOnceTests|TransactionFaultTests|BackfillCommandTests|BackfillRunTests|BackfillTimeRangeTests|E2EBenchSmokeTests|DemoSmokeTests|MetricsEndpointTests|ConfigurationTests/badConfigurationExit|ConfigurationTests/unreachable|ConfigurationTests/environment

# The edit-test loop: the unit and in-process suites (mock cluster and redis-server in
# process), in parallel, under two minutes after a warm build. CI runs `make test`.
check: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '$(PROCESS_TESTS)'

# Everything: the in-process suites in parallel, then the process suites one at a time
# (they start the binary and brokers, and measure nothing but must not starve each other).
test: deps $(PEER_VENV) $(BROKER_VENV) deploy-check
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip '$(PROCESS_TESTS)'
	$(SWIFT) test --skip-build --no-parallel --filter '$(PROCESS_TESTS)' 
ifneq ($(strip $(RELEASE_CPU_FLAGS)),)
	$(SWIFT) build --build-tests --scratch-path .build-cpu $(RELEASE_CPU_FLAGS)
	$(SWIFT) test --skip-build --scratch-path .build-cpu --filter '$(ENGINE_SUITES)'
endif

# The fault suite: the release binary against the mock cluster (faults injected through
# `streamscore broker --control`) and a real redis-server, one short scenario per fault,
# every input offset accounted for through the output headers. Prints a table and exits
# non-zero on any loss, crash or missed deadline. FAULTS_ARGS="--only sigkill,poison" runs some.
FAULTS_ARGS ?=
faults: release $(PEER_VENV)
	python3 scripts/faults.py --binary .build/release/streamscore $(FAULTS_ARGS)

# The decoder under libFuzzer with AddressSanitizer, for FUZZ_SECONDS, starting from the
# committed corpus (new finds stay in .build-fuzz/corpus; crashes are written as
# crash-* files in the current directory, to add to Tests/Fixtures/FuzzCorpus).
FUZZ_SECONDS ?= 300
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DSTREAMSCORE_FUZZ

fuzz: deps
	$(SWIFT) build -c release --product streamscore-fuzz --scratch-path .build-fuzz $(FUZZ_FLAGS)
	mkdir -p .build-fuzz/corpus && cp Tests/Fixtures/FuzzCorpus/* .build-fuzz/corpus/
	.build-fuzz/release/streamscore-fuzz .build-fuzz/corpus -dict=scripts/json.dict \
	  -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=5 -rss_limit_mb=2048 -print_final_stats=1

# The end-to-end benchmark with the release build (BENCH_ARGS: see `streamscore bench e2e --help`).
BENCH_ARGS ?=
bench-e2e: release $(PEER_VENV)
	[ -f .build/bench-models/fraud-xgb-large.onnx ] || python3 scripts/make_bench_models.py --large
	.build/release/streamscore bench e2e $(BENCH_ARGS)

clean:
	rm -rf .build .build-cpu .build-fuzz
