# portico: `make run` starts a server on loopback, `make test` runs every test.
# Build directories: build/ (optimised, hardened), build-test/ (ASan+UBSan),
# build-fuzz/ (clang + libFuzzer).

MESON ?= meson
PYTHON ?= python3
FUZZ_SECONDS ?= 20
# make install PREFIX=/usr DESTDIR=/tmp/root: the binary in PREFIX/sbin,
# the sample configuration in SYSCONFDIR/portico (kept if present).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc

.PHONY: all deps build run test unit integration fuzz bench install deb docs clean

all: build

# Only what building and running need; test, fuzz and deb add their own.
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
	@scripts/deps.sh --test
	ninja -C build-test
	scripts/test.sh build-test

unit: build-test/build.ninja
	ninja -C build-test
	$(MESON) test -C build-test --suite unit --print-errorlogs

integration: build-test/build.ninja
	ninja -C build-test
	PORTICO_BIN=$(CURDIR)/build-test/portico $(PYTHON) tests/integration/run.py $(T)

build-fuzz/build.ninja: | deps
	@scripts/deps.sh --fuzz
	CC=clang $(MESON) setup build-fuzz --buildtype=debug -Dfuzz=true -Dtests=false \
	  -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

fuzz: deps build-fuzz/build.ninja
	ninja -C build-fuzz
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	@scripts/deps.sh --bench
	scripts/bench.sh build $(P)

install: build
	$(MESON) configure build -Dprefix=$(PREFIX) -Dsysconfdir=$(SYSCONFDIR) >/dev/null
	ninja -C build
	$(MESON) install -C build --no-rebuild $(if $(DESTDIR),--destdir $(DESTDIR))

# A Debian package of the same layout (PREFIX=/usr), in build-deb/.
deb: deps
	@scripts/deps.sh --deb
	debian/rules clean
	debian/rules binary
	@ls build-deb/*.deb

# docs/CONFIG.md, the sample configuration and portico.conf(5) from the key
# table in src/core/config.c (a test fails when they differ).
docs: build
	./build/portico config-reference markdown > docs/CONFIG.md
	./build/portico config-reference sample > packaging/portico.conf
	./build/portico config-reference man > man/portico.conf.5

clean:
	rm -rf build build-test build-fuzz build-deb build-debian
