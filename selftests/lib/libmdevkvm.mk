# SPDX-License-Identifier: GPL-2.0
# The selftests' helper library; included by selftests/Makefile after
# lib.mk (OUTPUT, CFLAGS).
LIBMDEVKVM_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
LIBMDEVKVM_SRCS := $(wildcard $(LIBMDEVKVM_DIR)*.c)
LIBMDEVKVM_HDRS := $(wildcard $(LIBMDEVKVM_DIR)include/libmdevkvm/*.h)
LIBMDEVKVM_CFLAGS := -I$(LIBMDEVKVM_DIR)include
LIBMDEVKVM_O := $(patsubst $(LIBMDEVKVM_DIR)%.c,$(OUTPUT)/lib/%.o,$(LIBMDEVKVM_SRCS))

$(LIBMDEVKVM_O): $(OUTPUT)/lib/%.o: $(LIBMDEVKVM_DIR)%.c $(LIBMDEVKVM_HDRS)
	@mkdir -p $(dir $@)
	$(call msg,CC,,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
