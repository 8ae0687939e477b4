# Sluice front doors: `make demo`, `make test`, `make build`, `make bench`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: deps configure build test demo bench clean image

deps:
	@bash scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS); fi

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 1 --timeout 900

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

# The container image (deploy/Dockerfile, docs/image.md) with podman (docker when podman is
# absent); BASE_IMAGE=debian:bookworm-slim where a registry is reachable.
IMAGE ?= localhost/sluice:latest
BASE_IMAGE ?= localhost/sluice-base:bookworm
image: deps
	IMAGE=$(IMAGE) BASE_IMAGE=$(BASE_IMAGE) BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) bash scripts/build-image.sh

clean:
	rm -rf $(BUILD_DIR)
