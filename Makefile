# Front door. `make demo` generates text on the CPU backend; `make test` runs every test.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SHARED_MODEL := $(abspath ../shared/models/stories260K)
MODEL ?= $(if $(wildcard $(SHARED_MODEL)/config.json),$(SHARED_MODEL),)
PROMPT ?= Once upon a time
MAX_TOKENS ?= 64

.PHONY: all deps build demo test bench clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@if [ -z "$(MODEL)" ]; then \
	  echo "make demo: no model found. Pass a Hugging Face model directory: make demo MODEL=/path/to/model"; \
	  echo "           (LlamaForCausalLM or Qwen3ForCausalLM with config.json, *.safetensors, tokenizer.json)"; \
	  exit 2; \
	fi
	$(BUILD_DIR)/bin/ax-engine-bench generate --model "$(MODEL)" --prompt "$(PROMPT)" --max-tokens $(MAX_TOKENS)

test: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DAX_BUILD_TESTS=ON -DAX_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DAX_BUILD_BENCHMARKS=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)
