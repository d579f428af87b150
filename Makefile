# hb - shared-memory telemetry bus
#
#   make                 build libraries and tools into $(BUILD) (default build/)
#   make test            build and run the whole test suite
#   make demo            build and run the demo (collector + producers + tools)
#   make bench           run the benchmarks against the peers
#   make fuzz FUZZ_SECONDS=N  libFuzzer drivers (clang): replay corpora, fuzz N s each
#   make deps            install the Debian packages the project needs
#   make check-layers    prove that each room may include only what it may use
#   make install PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined BUILD=build-asan test
#
#   make uninstall PREFIX=/usr/local DESTDIR=   removes exactly what install put
#
# Layout of the build: $(BUILD)/lib (libhb.a, libhbread.a, libhbbus.a, all
# -fPIC; libhb.so and libhbread.so with their sonames; hb.pc, hbread.pc),
# $(BUILD)/bin (tools), $(BUILD)/tests (unit test programs).

CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
PREFIX ?= /usr/local
SANITIZE ?=
FUZZ_SECONDS ?= 60

override CFLAGS += -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -MMD -MP
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

MSGPACK_LIBS := $(shell pkg-config --libs msgpack 2>/dev/null || echo -lmsgpackc)
URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
NCURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
NATS_LIBS := $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)

# Who may include what: each room is compiled with the include paths of
# the rooms it may use and no others, so a wrong include fails the build
# (make check-layers proves it). include/ holds the public headers and
# include/hbs/, the low layer every side shares (header only, libc only).
#   producers/          include
#   bus/ (collector)    include, bus, http
#   bus/ fleet message  the same and consumers/lib: hbship and hbsink read
#                       archives (fleet_msg.c uses the reader's wire helpers)
#   consumers/lib/      include, consumers/lib
#   consumers/ tools    include, consumers/lib, http (hbweb)
#   consumers/examples  include (the public API only)
#   http/               include, http
#   tests, tools/fuzz, tools/bench: every room (they test the internals)
INC_PRODUCERS := -Iinclude
INC_BUS := -Iinclude -Ibus -Ihttp
INC_FLEET := $(INC_BUS) -Iconsumers/lib
INC_READER := -Iinclude -Iconsumers/lib
INC_CONSUMERS := -Iinclude -Iconsumers/lib -Ihttp
INC_EXAMPLES := -Iinclude
INC_HTTP := -Iinclude -Ihttp
INC_ALL := -Iinclude -Ibus -Ihttp -Iconsumers/lib
INC = $(INC_ALL)
$(OBJ)/producers/%.o: INC = $(INC_PRODUCERS)
$(OBJ)/bus/%.o: INC = $(INC_BUS)
$(OBJ)/bus/fleet_msg.o: INC = $(INC_FLEET)
$(OBJ)/consumers/%.o: INC = $(INC_CONSUMERS)
$(OBJ)/consumers/lib/%.o: INC = $(INC_READER)
$(OBJ)/consumers/examples/%.o: INC = $(INC_EXAMPLES)
$(OBJ)/http/%.o: INC = $(INC_HTTP)

LIB := $(BUILD)/lib
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

# libhb: the producer library (libc only)
LIBHB_SRCS := producers/hb.c producers/hb_thread.c
# libhbread: the archive reader every tool uses (msgpack-c)
LIBHBREAD_SRCS := $(wildcard consumers/lib/*.c)
# libhbbus: the ring consumer and collector internals (everything in bus/
# but the hbcollect main and the fleet tools' files, which need libnats)
FLEET_SRCS := bus/fleet_msg.c bus/fleet_nats.c
SHIP_SRCS := bus/hbship.c bus/ship.c $(wildcard bus/ship_*.c)
SINK_SRCS := bus/hbsink.c $(wildcard bus/sink_*.c)
LIBHBBUS_SRCS := $(filter-out bus/hbcollect.c $(FLEET_SRCS) $(SHIP_SRCS) $(SINK_SRCS),$(wildcard bus/*.c))
# libhbhttp: the HTTP servers' common start (libmicrohttpd), used by the
# collector's /metrics and by hbweb
LIBHBHTTP_SRCS := $(wildcard http/*.c)

LIBHB := $(LIB)/libhb.a
LIBHBREAD := $(LIB)/libhbread.a
LIBHBBUS := $(LIB)/libhbbus.a
LIBHBHTTP := $(LIB)/libhbhttp.a

.DEFAULT_GOAL := all

# The libraries' objects are position independent, so the static ones link
# into shared objects too; the shared ones carry sonames (ABI major 0).
VERSION := 0.1.0
SOMAJOR := 0
LIB_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(LIBHB_SRCS) $(LIBHBREAD_SRCS) $(LIBHBBUS_SRCS) $(LIBHBHTTP_SRCS))
$(LIB_OBJS): override CFLAGS += -fPIC
# (and are remade when the flags here change: objects from before -fPIC)
$(LIB_OBJS): Makefile
SOLIBS := $(LIB)/libhb.so $(LIB)/libhbread.so
PCFILES := $(BUILD)/hb.pc $(BUILD)/hbread.pc

# tools: consumers/hbX.c and producers/hbX.c are each one program
CONSUMER_TOOLS := $(patsubst consumers/%.c,$(BIN)/%,$(wildcard consumers/hb*.c))
PRODUCER_TOOLS := $(patsubst producers/%.c,$(BIN)/%,$(filter-out $(LIBHB_SRCS),$(wildcard producers/hb*.c)))
EXAMPLES := $(patsubst producers/examples/%.c,$(BIN)/%,$(wildcard producers/examples/*.c))
# consumer API examples: consumers/examples/X.c is one program each
CONSUMER_EXAMPLES := $(patsubst consumers/examples/%.c,$(BIN)/%,$(wildcard consumers/examples/*.c))
COLLECTOR := $(BIN)/hbcollect
FLEET_TOOLS := $(BIN)/hbship $(BIN)/hbsink
TOOLS := $(COLLECTOR) $(FLEET_TOOLS) $(CONSUMER_TOOLS) $(PRODUCER_TOOLS)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
MANPAGES := $(wildcard docs/man/*.1)
MANPAGES3 := $(wildcard docs/man/*.3)

all: $(LIBHB) $(LIBHBREAD) $(LIBHBBUS) $(LIBHBHTTP) $(SOLIBS) $(TOOLS) $(EXAMPLES) $(CONSUMER_EXAMPLES) $(UNIT_TESTS) $(PCFILES)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC) -c $< -o $@

$(LIBHB): $(LIBHB_SRCS:%.c=$(OBJ)/%.o)
$(LIBHBREAD): $(LIBHBREAD_SRCS:%.c=$(OBJ)/%.o)
$(LIBHBBUS): $(LIBHBBUS_SRCS:%.c=$(OBJ)/%.o)
$(LIBHBHTTP): $(LIBHBHTTP_SRCS:%.c=$(OBJ)/%.o)
$(LIB)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# libX.so -> libX.so.0 -> libX.so.0.1.0 (soname libX.so.0)
$(LIB)/libhb.so.$(VERSION): $(LIBHB_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libhb.so.$(SOMAJOR) $(LDFLAGS) -o $@ $^ -lpthread
$(LIB)/libhbread.so.$(VERSION): $(LIBHBREAD_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libhbread.so.$(SOMAJOR) $(LDFLAGS) -o $@ $^ $(MSGPACK_LIBS) -lm
$(LIB)/%.so: $(LIB)/%.so.$(VERSION)
	ln -sf $(notdir $<) $@.$(SOMAJOR)
	ln -sf $(notdir $@).$(SOMAJOR) $@

# (the collector does not link the reader: bus/ writes archives, reads none)
$(COLLECTOR): $(OBJ)/bus/hbcollect.o $(LIBHBBUS) $(LIBHBHTTP) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(URING_LIBS) $(MSGPACK_LIBS) $(MHD_LIBS) -lm

# the fleet: hbship and hbsink (libnats)
$(BIN)/hbship: $(SHIP_SRCS:%.c=$(OBJ)/%.o)
$(BIN)/hbsink: $(SINK_SRCS:%.c=$(OBJ)/%.o)
$(FLEET_TOOLS): $(FLEET_SRCS:%.c=$(OBJ)/%.o) $(LIBHBBUS) $(LIBHBHTTP) $(LIBHBREAD) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(NATS_LIBS) $(URING_LIBS) $(MSGPACK_LIBS) $(MHD_LIBS) -lpthread -lm

$(BIN)/hbtop: LDLIBS += $(LIBHBREAD) $(LIBHB) $(NCURSES_LIBS) -lpthread
# hbtop's model and views live in consumers/top/
$(BIN)/hbtop: $(patsubst %.c,$(OBJ)/%.o,$(wildcard consumers/top/*.c))
# hbreplay's producers' processes live in consumers/replay/
$(BIN)/hbreplay: LDLIBS += $(LIBHBREAD) $(LIBHB)
$(BIN)/hbreplay: $(patsubst %.c,$(OBJ)/%.o,$(wildcard consumers/replay/*.c))
# hbweb: hbtop's model without its screen, the server in consumers/web/ and
# the page's files (consumers/web/assets/) built in as C arrays
WEB_ASSETS := $(sort $(wildcard consumers/web/assets/*))
$(BUILD)/gen/web_assets.c: $(WEB_ASSETS) tools/embed_assets.sh
	@mkdir -p $(dir $@)
	sh tools/embed_assets.sh $(WEB_ASSETS) > $@.tmp && mv $@.tmp $@
$(OBJ)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_CONSUMERS) -Iconsumers/web -c $< -o $@
$(BIN)/hbweb: LDLIBS += $(LIBHBHTTP) $(LIBHBREAD) $(LIBHB) $(MHD_LIBS) -lpthread
$(BIN)/hbweb: $(patsubst %.c,$(OBJ)/%.o,$(filter-out consumers/top/curses.c,$(wildcard consumers/top/*.c)) \
	$(wildcard consumers/web/*.c)) $(OBJ)/gen/web_assets.o $(LIBHBHTTP)
$(CONSUMER_TOOLS): $(BIN)/%: $(OBJ)/consumers/%.o $(LIBHBREAD) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MSGPACK_LIBS) -lm

$(PRODUCER_TOOLS): $(BIN)/%: $(OBJ)/producers/%.o $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

$(CONSUMER_EXAMPLES): $(BIN)/%: $(OBJ)/consumers/examples/%.o $(LIBHBREAD) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MSGPACK_LIBS) -lm

$(EXAMPLES): $(BIN)/%: $(OBJ)/producers/examples/%.o $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lpthread

# the fleet message code (no libnats calls) for the tests of it
$(BUILD)/tests/test_fleet_rec_raw: $(OBJ)/bus/fleet_msg.o
$(BUILD)/tests/test_sink_batches: $(OBJ)/bus/sink_write.o $(OBJ)/bus/fleet_msg.o
$(UNIT_TESTS): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIBHBBUS) $(LIBHBHTTP) $(LIBHBREAD) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(CMOCKA_LIBS) $(URING_LIBS) $(MSGPACK_LIBS) $(MHD_LIBS) -lpthread -lm

# pkg-config: hb (producers) and hbread (archive readers, consumer API)
SUBST = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g'
$(BUILD)/%.pc: tools/%.pc.in Makefile
	@mkdir -p $(dir $@)
	$(SUBST) $< > $@

deps:
	bash tools/deps.sh build test bench

# who may include what (the INC_* paths above) holds: see tools/check_layers.sh
check-layers:
	@CC='$(CC)' INC_PRODUCERS='$(INC_PRODUCERS)' INC_BUS='$(INC_BUS)' INC_READER='$(INC_READER)' \
		INC_CONSUMERS='$(INC_CONSUMERS)' INC_EXAMPLES='$(INC_EXAMPLES)' INC_HTTP='$(INC_HTTP)' \
		sh tools/check_layers.sh

test: all
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) bash tests/run.sh

# the tests with threads under ThreadSanitizer, in their own build directory
# (without ASLR when possible: gcc 12's TSan rejects high-entropy layouts):
# the ring stress test, and 8 threads sharing one process-wide handle
TSAN_TESTS := test_ring_stress test_producer_threads
# (one sub-make builds them all: two at once would race on the same objects)
TSAN_RUN = TSAN_OPTIONS=halt_on_error=1 $$(setarch -R true 2>/dev/null && echo setarch -R)
tsan-ring: tsan-test_ring_stress
tsan:
	$(MAKE) BUILD=build-tsan SANITIZE=thread $(addprefix build-tsan/tests/,$(TSAN_TESTS))
	set -e; for t in $(TSAN_TESTS); do $(TSAN_RUN) build-tsan/tests/$$t; done
tsan-%:
	$(MAKE) BUILD=build-tsan SANITIZE=thread build-tsan/tests/$*
	$(TSAN_RUN) build-tsan/tests/$*

# hbweb's tests with hbweb (model reader, HTTP daemon and stream threads)
# and the tools they start under ThreadSanitizer
TSAN_WEB_TOOLS := hbweb hbcollect hbtop hbcat hbload ticker
tsan-web:
	$(MAKE) BUILD=build-tsan SANITIZE=thread $(addprefix build-tsan/bin/,$(TSAN_WEB_TOOLS))
	TSAN_OPTIONS=halt_on_error=1 BUILD=build-tsan SANITIZE=thread \
		$$(setarch -R true 2>/dev/null && echo setarch -R) bash tests/run.sh e2e/hbweb_

# hbship's threads (NATS ack handler, archive counter, /metrics daemon)
# under ThreadSanitizer, with the tools its test starts
TSAN_SHIP_TOOLS := hbship hbcollect hbload hbcat
tsan-ship:
	$(MAKE) BUILD=build-tsan SANITIZE=thread $(addprefix build-tsan/bin/,$(TSAN_SHIP_TOOLS))
	TSAN_OPTIONS=halt_on_error=1 BUILD=build-tsan SANITIZE=thread \
		$$(setarch -R true 2>/dev/null && echo setarch -R) bash tests/run.sh e2e/fleet_ship_metrics

demo: all
	BUILD=$(BUILD) bash tools/demo.sh --no-build

bench: all
	BUILD=$(BUILD) bash tools/bench.sh

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tools/fuzz/run.sh

bench-quick: all
	BUILD=$(BUILD) bash tools/bench.sh --quick

# What install puts where (uninstall removes the same list). The tools
# the README shows as commands include the consumer API example hb-count;
# the systemd unit goes where systemd looks under PREFIX, the docs where
# the unit's Documentation= says.
DOCDIR = $(PREFIX)/share/doc/hb
UNITDIR = $(PREFIX)/lib/systemd/system
DOCS := README.md $(wildcard docs/*.md)
HEADERS := include/hb.h include/hb.hpp include/hb_reader.h include/hb_consumer.h include/hb_state.h
INSTALL_BINS := $(TOOLS) $(CONSUMER_EXAMPLES)
INSTALLED := $(addprefix $(PREFIX)/include/,$(notdir $(HEADERS))) \
	$(addprefix $(PREFIX)/lib/,libhb.a libhbread.a) \
	$(foreach l,libhb libhbread,$(addprefix $(PREFIX)/lib/$(l),.so .so.$(SOMAJOR) .so.$(VERSION))) \
	$(addprefix $(PREFIX)/lib/pkgconfig/,hb.pc hbread.pc) \
	$(addprefix $(PREFIX)/bin/,$(notdir $(INSTALL_BINS))) \
	$(addprefix $(PREFIX)/share/man/man1/,$(notdir $(MANPAGES))) \
	$(addprefix $(PREFIX)/share/man/man3/,$(notdir $(MANPAGES3))) \
	$(UNITDIR)/hbcollect.service $(addprefix $(DOCDIR)/,$(notdir $(DOCS)))

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man3 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(LIBHB) $(LIBHBREAD) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB)/libhb.so.$(VERSION) $(LIB)/libhbread.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	for l in libhb libhbread; do \
		ln -sf $$l.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$$l.so.$(SOMAJOR) && \
		ln -sf $$l.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/$$l.so || exit 1; \
	done
	for pc in hb hbread; do \
		$(SUBST) tools/$$pc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/$$pc.pc || exit 1; \
	done
	install -m 755 $(INSTALL_BINS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(MANPAGES),install -m 644 $(MANPAGES) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(MANPAGES3),install -m 644 $(MANPAGES3) $(DESTDIR)$(PREFIX)/share/man/man3/)
	sed -e 's|/usr/local|$(PREFIX)|g' tools/hbcollect.service > $(DESTDIR)$(UNITDIR)/hbcollect.service
	install -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build build-*

# Benchmarks (tools/bench): built by tools/bench.sh through bench-build;
# bench_lttng only when liblttng-ust-dev is installed (bench-build-lttng).
BENCH := $(BUILD)/bench
BENCH_HB := $(addprefix $(BENCH)/,bench_hb bench_load bench_idle)
BENCH_MSGPACK := $(addprefix $(BENCH)/,bench_latency bench_count)
BENCH_DEPS := tools/bench/bench_util.h include/hb.h

$(BENCH_HB): $(BENCH)/%: tools/bench/%.c $(BENCH_DEPS) $(LIBHBBUS) $(LIBHBHTTP) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) $(LDFLAGS) -o $@ $< $(LIBHBBUS) $(LIBHBHTTP) $(LIBHB) $(MHD_LIBS) -lpthread

$(BENCH_MSGPACK): $(BENCH)/%: tools/bench/%.c $(BENCH_DEPS) $(LIBHB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) $(LDFLAGS) -o $@ $< $(LIBHB) $(MSGPACK_LIBS) -lpthread

$(BENCH)/bench_peers $(BENCH)/bench_spsc: $(BENCH)/%: tools/bench/%.c $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) $(LDFLAGS) -o $@ $< -lpthread

$(BENCH)/bench_lttng: tools/bench/bench_lttng.c tools/bench/hb_bench_tp.c tools/bench/hb_bench_tp.h $(BENCH_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) -Itools/bench $(LDFLAGS) -o $@ $(filter %.c,$^) \
		$(shell pkg-config --libs lttng-ust 2>/dev/null || echo -llttng-ust -ldl) -lpthread

bench-build: $(BENCH_HB) $(BENCH_MSGPACK) $(BENCH)/bench_peers $(BENCH)/bench_spsc
bench-build-lttng: $(BENCH)/bench_lttng

.PHONY: all deps check-layers test tsan tsan-ring tsan-web tsan-ship demo bench bench-quick bench-build bench-build-lttng fuzz install uninstall clean
.DELETE_ON_ERROR:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
