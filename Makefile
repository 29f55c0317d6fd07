# portico: `make run` starts a server on loopback, `make test` runs every test.
# Build directories: build/ (optimised, hardened), build-test/ (ASan+UBSan),
# build-fuzz/ (clang + libFuzzer).

MESON ?= meson
PYTHON ?= python3
FUZZ_SECONDS ?= 20

.PHONY: all deps build run test unit integration fuzz bench install clean

all: build

deps:
	@scripts/deps.sh

build/build.ninja: | deps
	$(MESON) setup build --buildtype=release -Dtests=false >/dev/null

build: deps build/build.ninja
	ninja -C build

run: build
	./build/portico serve $(if $(CONFIG),-c $(CONFIG))

build-test/build.ninja: | deps
	$(MESON) setup build-test --buildtype=debug -Db_sanitize=address,undefined \
	  -Db_lundef=false >/dev/null

test: deps build-test/build.ninja
	ninja -C build-test
	scripts/test.sh build-test

unit: build-test/build.ninja
	ninja -C build-test
	$(MESON) test -C build-test --suite unit --print-errorlogs

integration: build-test/build.ninja
	ninja -C build-test
	PORTICO_BIN=$(CURDIR)/build-test/portico $(PYTHON) tests/integration/run.py $(T)

build-fuzz/build.ninja: | deps
	CC=clang $(MESON) setup build-fuzz --buildtype=debug -Dfuzz=true -Dtests=false \
	  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@scripts/deps.sh --bench
	scripts/bench.sh build $(P)

install: build
	$(MESON) install -C build

clean:
	rm -rf build build-test build-fuzz
