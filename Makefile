# whistle — the two commands: `make run` and `make test`.
# Everything else here serves those two (and `make bench`).
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
DB         ?= var/whistle.db
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test test-unit test-asan test-fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/Makefile
	@cmake --build $(BUILD) -j$(JOBS)

# Serve the demo county on http://127.0.0.1:8080 (demo created on first run).
run: build
	@mkdir -p $(dir $(DB))
	@if [ ! -f $(DB) ]; then $(BUILD)/whistle demo --db $(DB) --scale small; fi
	@echo
	@echo "whistle is serving on http://$(LISTEN)/  (residents' phone page: http://$(LISTEN)/m.html)"
	@$(BUILD)/whistle demo-logins --db $(DB)
	@echo "(Ctrl-C stops the server)"
	@echo
	@$(BUILD)/whistle serve --db $(DB) --listen $(LISTEN)

# Every test, then every test again under ASan+UBSan, then the fuzz smoke runs.
test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cmake -S . -B $(BUILD_ASAN) -DWHISTLE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD_ASAN) -j$(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS)
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DWHISTLE_FUZZ=ON -DWHISTLE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD_FUZZ) -j$(JOBS)
	cd $(BUILD_FUZZ) && ctest --output-on-failure -R '^fuzz_'
	@echo "make test: all suites passed (normal, sanitizer, fuzz)"

bench: build
	bench/run.sh

format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/fuzz/*.c tools/*.c

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
