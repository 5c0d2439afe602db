# Front door. `make demo` generates text on the CPU backend; `make test` runs every test.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# The embedded default: the project's own small Qwen3 model (models/ax-demo-qwen3/README.md).
MODEL ?= models/ax-demo-qwen3
PROMPT ?= def read_lines(path):\n
MAX_TOKENS ?= 96

.PHONY: all deps build demo test bench clean

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

bench: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DAX_BUILD_BENCHMARKS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
