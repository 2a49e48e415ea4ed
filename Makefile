# harness - one non-recursive Makefile.
#   make            build ./harness-bin (symlinked as build/harness)
#   make test       cmocka suites + CLI tests
#   make sanitize   the same under ASan+UBSan
#   make tsan       the writer and simulation threads under ThreadSanitizer
#   make bench      benchmarks (figures as ratios to a baseline run together)
#   make fuzz       fuzz the parsers (FUZZ_SECONDS each, default 600;
#                   FUZZ_TARGETS, default: all of them)
#   make demo       generate a demo history, replay it, write reports/demo/index.html
#   make install    PREFIX=/usr/local DESTDIR=
PREFIX ?= /usr/local
PKGS   := libgit2 sqlite3 jansson
WARN   := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wvla -Wundef
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -pthread -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) \
             $(SAN) -MMD -MP $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
ifneq ($(DEVELOPER)$(CI),)
ALL_CFLAGS += -Werror
endif
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm -pthread
BUILD  ?= build
SRC    := $(wildcard harness/*.c)
OBJ    := $(patsubst harness/%.c,$(BUILD)/%.o,$(SRC))
LIBOBJ := $(filter-out $(BUILD)/main.o,$(OBJ))
TESTS  := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
BIN    := $(BUILD)/harness
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= dockerfile buildlog lint scenario pricing image calib \
                calib-plain calib-rawjson calib-legacy calib-history calib-manifest calib-model real idlist

all: $(BIN)

$(BIN): $(OBJ)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: harness/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/test_%: tests/test_%.c tests/testutil.h $(LIBOBJ)
	$(CC) $(ALL_CFLAGS) -Iharness $(shell pkg-config --cflags cmocka) -o $@ \
	    $< $(LIBOBJ) $(LDLIBS) $(shell pkg-config --libs cmocka)

$(BUILD):
	mkdir -p $@

test: $(BIN) $(TESTS)
	@HARNESS=$(abspath $(BIN)) tests/run-tests.sh $(TESTS)

sanitize:
	$(MAKE) BUILD=build-san test CC=gcc \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    CFLAGS="-O1 -g"

# The replay's threads under ThreadSanitizer: the writer (its tests), and
# a whole replay on several simulation threads (any report fails it).
tsan:
	$(MAKE) BUILD=build-tsan CC=gcc SAN="-fsanitize=thread" CFLAGS="-O1 -g" \
	    build-tsan/test_writer build-tsan/test_store build-tsan/harness
	build-tsan/test_writer && build-tsan/test_store
	tmp=$$(mktemp -d) && cd $$tmp && \
	    TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
	    HARNESS=$(abspath build-tsan/harness) \
	    bash $(abspath tests/cli/4110-replay-threads.sh); \
	    rc=$$?; rm -rf $$tmp; exit $$rc

bench: $(BIN)
	HARNESS=$(abspath $(BIN)) tests/bench/run.sh

fuzz:
	@for t in $(FUZZ_TARGETS); do tests/fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

demo: $(BIN)
	HARNESS=$(abspath $(BIN)) ci/demo

conformance: $(BIN)
	HARNESS=$(abspath $(BIN)) ci/conformance

man: $(BIN)
	HARNESS=$(abspath $(BIN)) ci/gen-man

install: $(BIN)
	install -Dm755 $(BIN) $(DESTDIR)$(PREFIX)/bin/harness
	install -Dm644 doc/harness.1 $(DESTDIR)$(PREFIX)/share/man/man1/harness.1
	install -d $(DESTDIR)$(PREFIX)/share/harness/pricing
	install -m644 scenarios/pricing/*.json $(DESTDIR)$(PREFIX)/share/harness/pricing/

format-check:
	clang-format --dry-run --Werror harness/*.[ch] tests/*.c

clean:
	rm -rf build build-san build-fuzz build-tsan

.PHONY: all test sanitize tsan bench fuzz demo conformance man install format-check clean
-include $(OBJ:.o=.d)
