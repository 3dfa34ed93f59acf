# dyn: one binary for the ML jobs of five services. See README.md.
# Sources are found by wildcard so that a new file under lib/ or cmd/ needs no edit here.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = libcjson stb libutf8proc
# Headers only: dyn loads libarchive, cairo, SQLite, OpenBLAS, libcrypto, HDF5, libyaml and
# FFmpeg's libraries when it first needs them (lib/base/lazylib.h and lib/base/blas.h say why); the unit
# tests link libarchive and HDF5 to write their fixtures and OpenBLAS, which t_par calls directly.
CFLAGS_ONLY_PKGS = cairo libarchive sqlite3 openblas libcrypto hdf5 yaml-0.1 \
	libavformat libavcodec libswscale libavutil
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

OPT ?= -O2 -g
SAN ?=
CFLAGS ?= $(OPT)
DYN_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -pthread -Ilib -DDYN_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) $(CFLAGS_ONLY_PKGS)) $(SAN)
# libcsv and libstemmer ship no .pc file on Debian 12.
TEST_LIBS = $(shell $(PKG_CONFIG) --libs libarchive openblas hdf5)
LIBS = -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS)) -lcsv -lstemmer -lm -ldl -pthread

BUILD ?= build
LIB_SRC := $(sort $(wildcard lib/*/*.c))
CMD_SRC := $(sort $(wildcard cmd/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/t_*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/f_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

DYNBIN ?= dyn

all: dyn

dyn: $(CMD_OBJ) $(BUILD)/libdyn.a
	@echo "  LINK $@"
	@$(CC) $(CFLAGS) $(DYN_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libdyn.a $(LIBS)

build-asan/dyn: $(CMD_OBJ) $(BUILD)/libdyn.a
	@echo "  LINK $@"
	@$(CC) $(CFLAGS) $(DYN_CFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libdyn.a $(LIBS)

$(BUILD)/libdyn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) $(DYN_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdyn.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CFLAGS) $(DYN_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libdyn.a $(LIBS) $(TEST_LIBS)

# Fuzz targets linked with a driver that replays their corpus (the test suite's regression
# run, tests/t9000-fuzz.sh); `make fuzz` links them with libFuzzer instead.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c tests/fuzz/fuzz.c tests/fuzz/fuzz.h $(BUILD)/libdyn.a
	@mkdir -p $(dir $@)
	@echo "  LINK $@"
	@$(CC) $(CFLAGS) $(DYN_CFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/driver.c tests/fuzz/fuzz.c \
		$(BUILD)/libdyn.a $(LIBS)

units: $(UNIT_BIN) $(FUZZ_BIN)

# Coverage-guided fuzzing of every target for FUZZ_SECONDS each (default 60), with clang's
# libFuzzer under ASan and UBSan; crashes are kept in build-fuzz/crashes/ (tools/fuzz.sh).
FUZZ_SECONDS ?= 60
fuzz:
	@MAKE="$(MAKE)" sh tools/fuzz.sh $(FUZZ_SECONDS)

# Installs the Debian packages that are missing (tools/debian-packages).
deps:
	@sh tools/deps.sh

# The whole test suite (C unit tests of lib/, shell tests of the binary), built and run under
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/; ends with "N passed, N failed".
check: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' DYNBIN=build-asan/dyn test

check-asan: check

# The suite on the plain optimized build (faster; what developers run between commits).
test: $(DYNBIN) units
	@DYN=$(CURDIR)/$(DYNBIN) UNITDIR=$(CURDIR)/$(BUILD)/tests sh tests/run.sh

# The main job on the bundled data: train a classifier, predict, show the model.
demo: deps dyn
	@sh tools/demo.sh

bench: dyn
	sh bench/run.sh

install: dyn
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 dyn $(DESTDIR)$(BINDIR)/dyn
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/
	install -m 644 completions/dyn.bash $(DESTDIR)$(BASHCOMPDIR)/dyn
	install -m 644 completions/_dyn $(DESTDIR)$(ZSHCOMPDIR)/_dyn
	install -m 644 completions/dyn.fish $(DESTDIR)$(FISHCOMPDIR)/dyn.fish

format:
	clang-format -i $(LIB_SRC) $(CMD_SRC) $(UNIT_SRC) lib/*/*.h tests/unit/*.h

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Ilib -D__GNUC__ lib cmd

clean:
	rm -rf build build-asan dyn

# bench/out holds the benchmarks' trained models (an OCR model is 40 minutes of training): only
# this removes it.
clean-bench:
	rm -rf bench/out

.PHONY: fuzz all units deps check test demo bench install format lint clean clean-bench
-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)
