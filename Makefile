# forestbatch: the two commands that do all set-up on a fresh Debian machine
#   make demo   install what is missing, build, run the seed workload on the bundled sample
#   make test   install what is missing, build, run every test (Release, then ASan+UBSan)
# Other targets: build, bench, asan, fuzz, format, format-check, clean.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=
# ccache, when installed, makes rebuilds (and CI reruns on the same machine) fast.
CCACHE := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
  CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE) -DCMAKE_C_COMPILER_LAUNCHER=$(CCACHE)
  export CCACHE_BASEDIR := $(CURDIR)
endif

.PHONY: deps build test test-release test-asan asan demo bench fuzz format format-check layers-check clean

deps:
	@scripts/setup-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps format-check layers-check test-release test-asan

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	  -DFB_SANITIZE=ON -DFB_BUILD_BENCH=OFF $(CMAKE_FLAGS)

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit --timeout 900

demo: build
	scripts/demo.sh $(BUILD)/forestbatch

bench: build
	bench/run.sh $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DFB_BUILD_FUZZ=ON -DFB_BUILD_TESTS=OFF -DFB_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS)

format:
	find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

format-check:
	@find src tests bench -name '*.cc' -o -name '*.h' | xargs clang-format --dry-run --Werror

# Every cross-folder #include follows the table in src/README.md.
layers-check:
	@python3 scripts/check_layers.py --self-test
	@python3 scripts/check_layers.py src

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
