# Front door. `make demo` generates text on the CPU backend; `make test` runs every test.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# The embedded default: the project's own small Qwen3 model (models/ax-demo-qwen3/README.md).
MODEL ?= models/ax-demo-qwen3
PROMPT ?= def read_lines(path):\n
MAX_TOKENS ?= 96

.PHONY: all deps build demo test test-sanitize fuzz lint lint-ci coverage bench python clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@./scripts/demo.sh "$(BUILD_DIR)" "$(MODEL)" "$(PROMPT)" "$(MAX_TOKENS)"

test: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DAX_BUILD_TESTS=ON -DAX_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# Every CPU test but the live-server and Python ones (an ASan module cannot load into
# an uninstrumented interpreter) under AddressSanitizer + UndefinedBehaviorSanitizer
# (leaks included), in its own build directory without the CUDA backend.
test-sanitize: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAX_BUILD_TESTS=ON -DAX_CUDA=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -E '^(e2e_|python_|soak_)'

# The libFuzzer targets (tests/fuzz) in build-fuzz (clang, ASan + UBSan, no CUDA), each
# run FUZZ_SECONDS from its seed corpus (scripts/fuzz.sh; longer: scripts/fuzz.sh 3600).
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAX_CUDA=OFF -DAX_BUILD_FUZZERS=ON
	cmake --build build-fuzz --target fuzzers -j $(JOBS)
	./scripts/fuzz.sh $(FUZZ_SECONDS)

# Lint gates (scripts/lint.sh): `make lint-ci` is what CI runs (include direction on the
# whole tree; clang-format and clang-tidy on what changed since the base commit the script
# records); `make lint` adds clang-tidy on every file a CPU-only build compiles (slow).
lint-ci: deps
	./scripts/lint.sh ci

lint: deps
	./scripts/lint.sh includes
	./scripts/lint.sh format
	./scripts/lint.sh tidy-all

# Line and function coverage of the CPU tests (report only; not run by CI): a --coverage
# build in build-cov without CUDA, every CPU test but the live-server and Python ones,
# then gcovr (Debian's) writes build-cov/coverage/index.html and summary.txt. Counters are
# updated atomically (the thread pool and server threads would otherwise race them into
# negative branch counts, which gcov prints and gcovr cannot parse).
# The baseline is recorded in docs/testing.md.
COV_EXCLUDE ?= ^(e2e_|python_)
coverage: deps
	@command -v gcovr >/dev/null || { echo "make coverage needs gcovr: sudo apt-get install gcovr" >&2; exit 1; }
	cmake -S . -B build-cov -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAX_BUILD_TESTS=ON -DAX_CUDA=OFF \
	  -DCMAKE_CXX_FLAGS="--coverage -fprofile-update=atomic -O1" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
	  -DCMAKE_SHARED_LINKER_FLAGS=--coverage
	cmake --build build-cov -j $(JOBS)
	find build-cov -name '*.gcda' -delete
	cd build-cov && ctest -j $(JOBS) -E '$(COV_EXCLUDE)' --output-on-failure || echo "coverage: some tests failed; the report covers what ran" >&2
	mkdir -p build-cov/coverage
	gcovr -r . --object-directory build-cov -j $(JOBS) --gcov-ignore-parse-errors --filter 'include/' --filter 'src/' --filter 'server/' \
	  --filter 'tools/' --exclude-unreachable-branches --exclude-throw-branches \
	  --html-details build-cov/coverage/index.html --txt build-cov/coverage/files.txt \
	  --print-summary | tee build-cov/coverage/summary.txt
	@echo "coverage: build-cov/coverage/index.html (per file: build-cov/coverage/files.txt)"

# The ax_engine Python module into $(BUILD_DIR)/python (PYTHONPATH=$(BUILD_DIR)/python).
python: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) --target ax_engine_python -j $(JOBS)

bench: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DAX_BUILD_BENCHMARKS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
