# tools/fuzz/fuzz.mk - libFuzzer drivers (clang, ASan + UBSan) in $(FUZZ_BUILD).
#
#   make -f tools/fuzz/fuzz.mk            build every driver whose sources exist
#   make fuzz FUZZ_SECONDS=N              build, replay the corpora, fuzz N s each
#
# Each driver tools/fuzz/fuzz_X.c links against the project's sources built
# with -fsanitize=fuzzer-no-link,address,undefined. A driver is built only
# when the sources it exercises are present (FUZZ_NEEDS_X below).

FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror=incompatible-pointer-types -Werror=implicit-function-declaration -D_GNU_SOURCE -Iinclude -Ibus -Ihttp -Iconsumers/lib \
	-Itools/fuzz $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP \
	-DRD_BUF_INIT=4096
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer
FUZZ_LIBS := $(shell pkg-config --libs liburing msgpack libmicrohttpd 2>/dev/null || echo -luring -lmsgpackc -lmicrohttpd) \
	$(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lpthread -lm

FUZZ_OBJ := $(FUZZ_BUILD)/obj
LIB_SRCS := producers/hb.c producers/hb_thread.c $(filter-out bus/hbcollect.c,$(wildcard bus/*.c)) $(wildcard http/*.c) \
	$(wildcard consumers/lib/*.c) $(wildcard consumers/top/*.c) $(wildcard consumers/replay/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_OBJ)/%.o)

# What each driver needs before it can be built.
FUZZ_NEEDS_register := producers/hb.c
FUZZ_NEEDS_ring := bus/ring.c
FUZZ_NEEDS_reader := $(firstword $(wildcard consumers/lib/*.c))
FUZZ_NEEDS_cli := $(wildcard bus/hbcollect.c)

FUZZ_ALL := $(patsubst tools/fuzz/fuzz_%.c,%,$(wildcard tools/fuzz/fuzz_*.c))
FUZZ_READY := $(foreach d,$(FUZZ_ALL),$(if $(FUZZ_NEEDS_$(d)),$(d)))
FUZZ_BINS := $(FUZZ_READY:%=$(FUZZ_BUILD)/fuzz_%)

# The registration driver also round-trips through the consumer when the
# ring consumer exists.
ifneq ($(wildcard bus/ring.c),)
$(FUZZ_OBJ)/tools/fuzz/fuzz_register.o: FUZZ_CFLAGS += -DHB_FUZZ_RING
endif

all: $(FUZZ_BINS)

list:
	@echo $(FUZZ_READY)

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libhbfuzz.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

# the command-line driver runs each tool's parser: tools/fuzz/cli/cli_<tool>.c
CLI_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(wildcard tools/fuzz/cli/*.c))
$(FUZZ_BUILD)/fuzz_cli: $(CLI_OBJS)

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_OBJ)/tools/fuzz/fuzz_%.o $(FUZZ_BUILD)/libhbfuzz.a
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $(filter %.o,$^) $(FUZZ_BUILD)/libhbfuzz.a $(FUZZ_LIBS)

.PHONY: all list
.DELETE_ON_ERROR:
.SECONDARY:

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
