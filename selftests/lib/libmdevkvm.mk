# SPDX-License-Identifier: GPL-2.0
# The selftests' helper library; included by selftests/Makefile.
LIBMDEVKVM_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
LIBMDEVKVM_SRCS := $(wildcard $(LIBMDEVKVM_DIR)*.c)
LIBMDEVKVM_HDRS := $(wildcard $(LIBMDEVKVM_DIR)include/libmdevkvm/*.h)
LIBMDEVKVM_CFLAGS := -I$(LIBMDEVKVM_DIR)include
