# quarry — one non-recursive Makefile.
#
#   make            build the quarry binary, libquarry.a and libquarry.so (build/)
#   make demo       install missing packages, build, index corpus/, run sample queries
#   make test       install missing packages, build, run every unit and end-to-end test
#   make asan       the test suite under AddressSanitizer + UBSan (build-asan/)
#   make fault      every I/O call and allocation of an operation failed in turn (build-fault/)
#   make valgrind   the unit tests under valgrind
#   make quality    retrieval quality over the evaluation collections (bench/quality.sh)
#   make bench      indexing and query speed (bench/run.sh)
#   make fuzz       libFuzzer binaries of tests/fuzz/fuzz_*.c (clang, ASan + UBSan; build-fuzz/)
#   make fuzz-run   runs each for FUZZ_SECONDS (default 60) on tests/fuzz/corpus/NAME
#   make install    the binary, libraries, header, quarry.pc, man pages and bash
#                   completion under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local)
#   make uninstall  removes what install put there
#   make clean
#
# Quiet unless V=1. Header dependencies are automatic (-MMD); only the
# dependency files that exist are included, and make's built-in rules are
# off, so that a missing .d file is never "remade" by an implicit rule.

MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

CC      ?= cc
OPT     ?= -O2 -g
CFLAGS  ?=
SAN     ?=
BUILD   ?= build
QUARRY_CORPUS ?= $(abspath ../shared/corpus)
export QUARRY_CORPUS

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ALL_CFLAGS := -std=c11 -pthread $(OPT) $(WARN) $(SAN) $(CFLAGS) -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 \
              -Iinclude -Isrc -MMD -MP
LDLIBS  := -lstemmer -lutf8proc -ldeflate -lz -lm -pthread
CLI_LDLIBS := -ledit

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(sort $(wildcard src/base/*.c src/analyze/*.c src/read/*.c src/passage/*.c \
                              src/index/*.c src/query/*.c src/eval/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_SUP := $(sort $(wildcard tests/support/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUP_OBJ := $(TEST_SUP:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libquarry.a
BIN      := $(BUILD)/quarry

# The shared library: the same sources compiled as position-independent
# code in their own directory; only the public quarry_* names are exported.
VERSION  := $(shell sed -n 's/^\#define QUARRY_VERSION "\(.*\)"/\1/p' include/quarry.h)
SOMAJOR  := $(firstword $(subst ., ,$(VERSION)))
SONAME   := libquarry.so.$(SOMAJOR)
PIC_OBJ  := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
SHLIB    := $(BUILD)/libquarry.so.$(VERSION)

# Debian packages the build needs, as header=package pairs, and the programs
# the tests use, as path=package pairs.
DEPS := libstemmer.h=libstemmer-dev zlib.h=zlib1g-dev libdeflate.h=libdeflate-dev cmocka.h=libcmocka-dev \
        utf8proc.h=libutf8proc-dev editline/readline.h=libedit-dev
TOOLS := /usr/bin/python3=python3 /usr/bin/time=time /usr/bin/gzip=gzip /usr/bin/script=bsdutils \
         /usr/bin/pkg-config=pkg-config /usr/bin/man=man-db /usr/bin/groff=groff-base \
         /usr/bin/dask-scheduler=python3-distributed

.PHONY: all deps demo test unit e2e asan tsan valgrind quality bench clean fuzz fuzz-run install uninstall fault fault-bin
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BIN) $(LIB) $(SHLIB)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(SHLIB): $(PIC_OBJ) src/libquarry.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(SAN) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/libquarry.map \
	    -Wl,--no-undefined -o $@ $(PIC_OBJ) $(LDLIBS)

$(BIN): $(CLI_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(SAN) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(CLI_LDLIBS) $(LDLIBS)
	$(Q)ln -sf $(BUILD)/quarry quarry 2>/dev/null || true

# every test links the oracle tests' shared helpers (tests/support/)
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUP_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(OPT) $(SAN) $(LDFLAGS) -o $@ $< $(TEST_SUP_OBJ) $(LIB) -lcmocka $(LDLIBS)

# Installs what is missing with apt-get when root (or via sudo); otherwise
# names the packages and stops.
deps:
	@missing=""; for d in $(DEPS); do h=$${d%%=*}; p=$${d#*=}; \
	  echo '#include <'$$h'>' | $(CC) -E -x c - >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	for d in $(TOOLS); do [ -x "$${d%%=*}" ] || missing="$$missing $${d#*=}"; done; \
	command -v $(CC) >/dev/null || missing="$$missing gcc"; \
	command -v make >/dev/null || missing="$$missing make"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "quarry: missing Debian packages:$$missing — run: sudo apt-get install$$missing" >&2; exit 2; fi; \
	  echo "  APT    $$missing"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	  { echo "quarry: apt-get install$$missing failed" >&2; exit 2; }; \
	fi

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)./$(BIN) index -o index corpus
	$(Q)./$(BIN) stats -i index
	@echo; echo '$$ quarry search "BRI investment"'
	$(Q)./$(BIN) search -i index -k 3 --color=always --no-pager 'BRI investment'
	@echo; echo '$$ quarry search sanctions'
	$(Q)./$(BIN) search -i index -k 3 --color=always --no-pager sanctions

test: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_BIN) $(VARIANT_BIN) fault-bin
	$(Q)QUARRY_FAULT_STRIDE=$${QUARRY_FAULT_STRIDE:-97} QUARRY_EXTRA_TESTS="$(VARIANT_BIN) $(FAULT_BIN)" \
	    tests/run.sh $(BUILD)

# The codec built other ways, each variant in $(BUILD)/<variant>/: test_codec,
# and test_search (indexes written and searched, every score against its
# oracle), each linked with codec.c built that way. Its object comes before
# libquarry.a and defines every qc_ name, so the archive's codec.o is never
# pulled in.
#   portable  -DQC_LITTLE_ENDIAN=0: the byte-wise loads and stores (what a
#             host not known to be little-endian compiles)
#   scalar    -DQC_SIMD=0: the 64-bit loads, without AVX2 (a CPU without it)
VARIANTS       := portable scalar
VARIANT_TESTS  := test_codec test_search
VARIANT_BIN    := $(foreach v,$(VARIANTS),$(VARIANT_TESTS:%=$(BUILD)/$(v)/tests/%))
portable_DEF   := -DQC_LITTLE_ENDIAN=0
scalar_DEF     := -DQC_SIMD=0

define VARIANT_RULES
$(BUILD)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  CC      $$@")
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$($(1)_DEF) -c $$< -o $$@

$(BUILD)/$(1)/tests/%: $(BUILD)/$(1)/tests/%.o $(BUILD)/$(1)/src/index/codec.o $$(TEST_SUP_OBJ) $$(LIB)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(OPT) $$(SAN) $$(LDFLAGS) -o $$@ $$< $(BUILD)/$(1)/src/index/codec.o $$(TEST_SUP_OBJ) $$(LIB) \
	    -lcmocka $$(LDLIBS)
endef
$(foreach v,$(VARIANTS),$(eval $(call VARIANT_RULES,$(v))))

# The fault-injection test (tests/fault/): the library built with
# -DQUARRY_FAULTS, AddressSanitizer and UBSan in build-fault/, where every
# system call and allocation of an operation is made to fail in turn.
FAULT_BIN := build-fault/tests/fault/test_faults
FAULT_VARS := BUILD=build-fault OPT="-O1 -g -fno-omit-frame-pointer" CFLAGS=-DQUARRY_FAULTS \
              SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
fault-bin:
	$(Q)$(MAKE) --no-print-directory $(FAULT_VARS) $(FAULT_BIN)
fault: fault-bin
	$(Q)ASAN_OPTIONS=detect_leaks=1 $(FAULT_BIN)

# (the binary and the static library only: a shared library does not link
# with the sanitizers' runtime left undefined)
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" build-asan/quarry
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    $(TEST_SRC:tests/%.c=build-asan/tests/%)
	$(Q)ASAN_OPTIONS=detect_leaks=1 tests/run.sh build-asan

# ThreadSanitizer: the threaded tests (concurrent searches, the two-thread
# indexer) in build-tsan/.
TSAN_TESTS := test_threads test_index test_segments
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan OPT="-O1 -g" SAN="-fsanitize=thread" \
	    $(TSAN_TESTS:%=build-tsan/tests/%)
	$(Q)for t in $(TSAN_TESTS); do echo "  TSAN    $$t"; \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" build-tsan/tests/$$t >/tmp/quarry-tsan-$$t.log 2>&1 || \
	  { tail -n 40 /tmp/quarry-tsan-$$t.log; echo "tsan: $$t failed (log: /tmp/quarry-tsan-$$t.log)" >&2; exit 1; }; done

valgrind: all $(TEST_BIN)
	$(Q)VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full" tests/run.sh $(BUILD)

quality: all
	$(Q)bench/quality.sh

bench: all
	$(Q)bench/run.sh

clean:
	rm -rf build build-asan build-tsan build-fault quarry

# ------------------------------------------------------------ install
# GNU directory variables; DESTDIR stages the whole tree elsewhere (for a
# package, or the test tests/e2e/install.sh). quarry.pc is written at install
# time, so that it names the PREFIX of that install. The binary links
# libquarry statically; programs of users link either library.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# every function of quarry.h also has a man page name: `man quarry_search`
MAN3_LINKS  := $(shell sed -n 's/^[a-z].*[ *]\(quarry_[a-z_]*\)[(][^)]*.*/\1/p' include/quarry.h)

install: $(BIN) $(LIB) $(SHLIB)
	@echo "  INSTALL $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(COMPLETIONDIR)
	$(Q)install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/quarry
	$(Q)install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libquarry.a
	$(Q)install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/libquarry.so.$(VERSION)
	$(Q)ln -sf libquarry.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libquarry.so
	$(Q)install -m 644 include/quarry.h $(DESTDIR)$(INCLUDEDIR)/quarry.h
	$(Q)printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	    'Name: quarry' 'Description: full-text search library: BM25 over a compressed inverted index of passages' \
	    'Version: $(VERSION)' \
	    'Cflags: -I$${includedir}' 'Libs: -L$${libdir} -lquarry' \
	    'Libs.private: -lstemmer -lm -pthread' 'Requires.private: libutf8proc libdeflate zlib' \
	    | sed -e 's|=$(PREFIX)/|=$${prefix}/|' >$(DESTDIR)$(PKGCONFIGDIR)/quarry.pc
	$(Q)chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/quarry.pc
	$(Q)install -m 644 man/quarry.1 $(DESTDIR)$(MANDIR)/man1/quarry.1
	$(Q)install -m 644 man/quarry.3 $(DESTDIR)$(MANDIR)/man3/quarry.3
	$(Q)for f in $(MAN3_LINKS); do echo '.so man3/quarry.3' >$(DESTDIR)$(MANDIR)/man3/$$f.3; done
	$(Q)install -m 644 completion/quarry.bash $(DESTDIR)$(COMPLETIONDIR)/quarry
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	@echo "  UNINSTALL $(DESTDIR)$(PREFIX)"
	$(Q)rm -f $(DESTDIR)$(BINDIR)/quarry $(DESTDIR)$(LIBDIR)/libquarry.a $(DESTDIR)$(LIBDIR)/libquarry.so \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libquarry.so.$(VERSION) \
	    $(DESTDIR)$(INCLUDEDIR)/quarry.h $(DESTDIR)$(PKGCONFIGDIR)/quarry.pc \
	    $(DESTDIR)$(MANDIR)/man1/quarry.1 $(DESTDIR)$(MANDIR)/man3/quarry.3 \
	    $(MAN3_LINKS:%=$(DESTDIR)$(MANDIR)/man3/%.3) $(DESTDIR)$(COMPLETIONDIR)/quarry

# ------------------------------------------------------------ fuzzing
# The library and the harnesses are compiled with clang, instrumented for
# libFuzzer (-fsanitize=fuzzer-no-link) and ASan + UBSan; each harness is
# linked with the libFuzzer driver tests/fuzz/libfuzzer_main.c. fuzz-run
# writes new inputs to build-fuzz/corpus/NAME (the committed seeds in
# tests/fuzz/corpus/NAME are only read), crashes to build-fuzz/artifacts/
# and libFuzzer's output to build-fuzz/NAME.log (shown whole with V=1).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_OPTS    ?= -rss_limit_mb=1024 -timeout=10
FUZZ_BUILD   := build-fuzz
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -pthread -O1 -g -fno-omit-frame-pointer $(WARN) -D_DEFAULT_SOURCE \
                -D_FILE_OFFSET_BITS=64 -Iinclude -Isrc -MMD -MP
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/libquarry.a
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(FUZZ_BUILD)/tests/fuzz/main_%.o: tests/fuzz/libfuzzer_main.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_TARGET=fuzz_$* $(FUZZ_SAN) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/tests/fuzz/main_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: fuzz
	$(Q)mkdir -p $(FUZZ_BUILD)/artifacts
	$(Q)for n in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  echo "  FUZZ    $$n for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$n.log)"; \
	  $(FUZZ_BUILD)/fuzz_$$n $(FUZZ_OPTS) -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n- $(FUZZ_BUILD)/corpus/$$n tests/fuzz/corpus/$$n \
	    >$(FUZZ_BUILD)/$$n.log 2>&1; \
	  rc=$$?; $(if $(Q),,cat $(FUZZ_BUILD)/$$n.log;) grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' $(FUZZ_BUILD)/$$n.log | tail -n 1 | sed 's/^/          /'; \
	  if [ $$rc -ne 0 ]; then grep -E 'ERROR|SUMMARY|fuzz check failed|Test unit written' $(FUZZ_BUILD)/$$n.log | sed 's/^/          /'; \
	    echo "fuzz-run: $$n failed (see $(FUZZ_BUILD)/$$n.log)" >&2; exit 1; fi; \
	done

-include $(wildcard $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.d) \
                    $(FUZZ_NAMES:%=$(FUZZ_BUILD)/tests/fuzz/main_%.d))
-include $(wildcard $(foreach v,$(VARIANTS),$(BUILD)/$(v)/src/index/codec.d $(VARIANT_TESTS:%=$(BUILD)/$(v)/tests/%.d)))
-include $(wildcard $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.d) $(TEST_SUP_OBJ:.o=.d) $(FAULT_BIN).d)
