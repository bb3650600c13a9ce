# forestbatch: the two commands that do all set-up on a fresh Debian machine
#   make demo   install what is missing, build, run the seed workload on the bundled sample
#   make test   install what is missing, build, run every test (Release, then ASan+UBSan),
#               then print the table of real components used and of anything skipped.
#               Under CI=true (or FORESTBATCH_REQUIRE_ALL=1) a missing component fails.
# Other targets: build, bench, asan, fuzz, format, format-check, check-fixtures, clean.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?=
# ccache, when installed, makes rebuilds (and CI reruns on the same machine) fast.
CCACHE := $(shell command -v ccache 2>/dev/null)
ifneq ($(CCACHE),)
  CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE) -DCMAKE_C_COMPILER_LAUNCHER=$(CCACHE)
  export CCACHE_BASEDIR := $(CURDIR)
  # The sanitizer build has debug info, which ccache keys by the working folder
  # unless told not to: without this a fresh clone recompiles it all.
  export CCACHE_NOHASHDIR := 1
endif

.PHONY: deps build test test-release test-asan test-summary check-fixtures asan demo bench fuzz format format-check layers-check clean

deps:
	@scripts/setup-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps format-check layers-check test-release test-asan test-summary

# test-records/ (tests/harness/fbtest.py) and test-results.xml feed test-summary.
test-release: build
	rm -rf $(BUILD)/test-records
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900 --output-junit test-results.xml

# The real components the tests used (versions) and every skipped test with its reason;
# under CI=true any skip fails here too.
test-summary:
	@/usr/bin/python3 tests/harness/fbtest.py summary $(BUILD) $(ASAN_BUILD)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	  -DFB_SANITIZE=ON -DFB_BUILD_BENCH=OFF $(CMAKE_FLAGS)

asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Under AddressSanitizer + UndefinedBehaviorSanitizer: the unit tests, and the
# end-to-end tests labelled `sanitize` (predict, runs killed and resumed, hostile
# names and data, S3 against s3rver, XGBoost and LightGBM models: docs/testing.md).
# Reports go to files (a child whose failure a test expected still leaves its
# report), and any report fails the target after ctest, printed in full.
test-asan: asan
	rm -rf $(ASAN_BUILD)/test-records $(ASAN_BUILD)/sanitizer-logs
	mkdir -p $(ASAN_BUILD)/sanitizer-logs
	cd $(ASAN_BUILD) && rc=0; \
	  ASAN_OPTIONS=detect_leaks=1:log_exe_name=1:log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer-logs/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_exe_name=1:log_path=$(CURDIR)/$(ASAN_BUILD)/sanitizer-logs/ubsan \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|sanitize' --timeout 900 --output-junit test-results.xml || rc=$$?; \
	  /usr/bin/python3 $(CURDIR)/tests/harness/fbtest.py sanitizer-logs sanitizer-logs || rc=1; \
	  exit $$rc

# Reruns every fixture generator with the installed scikit-learn / XGBoost into a
# scratch folder and compares with the committed fixtures (also the ctest entry
# check_fixtures, so `make test` runs it when the libraries are present).
check-fixtures:
	/usr/bin/python3 scripts/check_fixtures.py

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
