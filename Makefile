# truthound for Lua: build, run, test, bench, fuzz, install.
#
#   make          build build/truthound/core.so and build/tplua
#   make run      install missing Debian packages, build, run the demo
#   make test     every test (C under ASan+UBSan, busted, e2e, hostile)
#   make bench    benchmarks, each a ratio against a peer measured in the same run
#   make fuzz     every libFuzzer harness for FUZZ_SECONDS seconds each
#   make install  PREFIX=/usr/local (luarocks passes LUADIR, LIBDIR, BINDIR)
#
# New files need no edit here: core/*.c and core/lua/*.c are picked up by
# wildcard, tests/c/test_*.c become test binaries, tests/fuzz/fuzz_*.c become
# fuzzers.

PREFIX      ?= /usr/local
LUA_VERSION := 5.4
LUA         ?= lua5.4
LUA_INCDIR  ?= /usr/include/lua5.4
BINDIR      ?= $(PREFIX)/bin
LUADIR      ?= $(PREFIX)/share/lua/$(LUA_VERSION)
LIBDIR      ?= $(PREFIX)/lib/lua/$(LUA_VERSION)

CC          ?= cc
CFLAGS      ?= -O2 -g
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60
B           ?= build
export B

WARN     := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wno-unused-parameter
DEFS     := -D_GNU_SOURCE -Icore -I$(LUA_INCDIR)
PICFLAGS := -fPIC -fvisibility=hidden
SYSLIBS  := -luv -lseccomp -lcrypto -lm
HOSTLIBS := -llua5.4 -ledit $(SYSLIBS) -ldl
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer

CORE_SRC  := $(sort $(wildcard core/*.c core/sandbox/*.c))
CORE_SRC  := $(filter-out core/tplua.c,$(CORE_SRC))
BIND_SRC  := $(sort $(wildcard core/lua/*.c))
CORE_HDR  := $(wildcard core/*.h core/sandbox/*.h core/lua/*.h)
CORE_OBJ  := $(CORE_SRC:%.c=$(B)/obj/%.o)
BIND_OBJ  := $(BIND_SRC:%.c=$(B)/obj/%.o)
ASAN_OBJ  := $(CORE_SRC:%.c=$(B)/asan/%.o)
ASAN_BIND := $(BIND_SRC:%.c=$(B)/asan/%.o)
CTESTS    := $(patsubst tests/c/%.c,$(B)/asan/tests/%,$(wildcard tests/c/test_*.c))
FUZZERS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# The sandbox worker: a small program of its own (no libuv, no OpenSSL),
# installed next to core.so where the engines look for it.
WORKER_SRC := $(sort $(wildcard core/worker/*.c)) $(wildcard core/wire.c \
              core/sandbox/seccomp.c core/sandbox/landlock.c core/lua/l_wire.c \
              core/lua/l_sbstate.c)
WORKER    := $(if $(wildcard core/worker/main.c),$(B)/truthound/truthound-worker)
ASAN_WORKER := $(if $(WORKER),$(B)/asan/truthound/truthound-worker)
WORKERLIBS := -llua5.4 -lseccomp -lm -ldl

.PHONY: all deps run test bench fuzz fuzz-build install uninstall rock clean
# Keep the sanitizer objects: they are only prerequisites of pattern rules,
# which make would otherwise delete as intermediate files.
.SECONDARY:

all: $(B)/truthound/core.so $(B)/tplua $(WORKER)

deps:
	@scripts/deps.sh

run: deps all
	@B=$(B) sh scripts/demo.sh

test: deps all $(CTESTS) $(B)/asan/truthound/core.so $(ASAN_WORKER) fuzz-build
	@scripts/test.sh

bench: deps all
	@scripts/bench.sh

fuzz: deps fuzz-build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-build: $(FUZZERS)

# Objects for core.so and tplua: position independent, hidden by default so
# that only luaopen_truthound_core is exported from the module.
$(B)/obj/%.o: %.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) $(PICFLAGS) -c $< -o $@

$(B)/truthound/core.so: $(CORE_OBJ) $(BIND_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $^ $(SYSLIBS)

$(B)/tplua: $(B)/obj/core/tplua.o $(CORE_OBJ) $(BIND_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(HOSTLIBS)

$(B)/truthound/truthound-worker: $(WORKER_SRC:%.c=$(B)/obj/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(WORKERLIBS)

$(B)/asan/truthound/truthound-worker: $(WORKER_SRC:%.c=$(B)/asan/%.o)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $^ $(WORKERLIBS)

# C unit tests: the core alone, built with ASan and UBSan. The same objects
# make a sanitized core.so that the busted specs load (with libasan
# preloaded into lua5.4), so the bindings run under the sanitizers too.
$(B)/asan/%.o: %.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(WARN) $(DEFS) -fPIC -c $< -o $@

$(B)/asan/truthound/core.so: $(ASAN_OBJ) $(ASAN_BIND)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -shared -o $@ $^ $(SYSLIBS)

$(B)/asan/tests/%: tests/c/%.c tests/c/tp_test.h $(ASAN_OBJ) $(ASAN_BIND)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(WARN) $(DEFS) -Itests/c -o $@ $< $(ASAN_OBJ) $(ASAN_BIND) \
	  -llua5.4 $(SYSLIBS) -ldl

# libFuzzer harnesses: clang, the core and its bindings compiled in with the
# fuzzer. Harnesses of Lua-side parsers embed liblua, preload truthound.core
# and find lua/ through TP_SOURCE_DIR.
$(B)/fuzz/%: tests/fuzz/%.c $(CORE_SRC) $(BIND_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) \
	  -DTP_SOURCE_DIR='"$(CURDIR)"' -o $@ $< $(CORE_SRC) $(BIND_SRC) $(SYSLIBS) -llua5.4

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/truthound $(DESTDIR)$(LUADIR)
	install -m 755 $(B)/tplua $(DESTDIR)$(BINDIR)/tplua
	install -m 755 $(B)/truthound/core.so $(DESTDIR)$(LIBDIR)/truthound/core.so
	$(if $(WORKER),install -m 755 $(WORKER) $(DESTDIR)$(LIBDIR)/truthound/truthound-worker)
	cd lua && for f in $$(find -L truthound -name '*.lua'); do \
	  install -D -m 644 $$f $(DESTDIR)$(LUADIR)/$$f || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tplua $(DESTDIR)$(LIBDIR)/truthound/core.so \
	  $(DESTDIR)$(LIBDIR)/truthound/truthound-worker
	rm -rf $(DESTDIR)$(LUADIR)/truthound

rock: deps
	luarocks --lua-version $(LUA_VERSION) make --local rocks/truthound-scm-1.rockspec

clean:
	rm -rf $(B)
