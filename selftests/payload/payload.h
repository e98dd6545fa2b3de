/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The payload's few definitions: the kernel's type names for a
 * freestanding program, port and memory accessors that the
 * compiler neither merges nor drops (inline asm: the device and its DMA
 * change the memory behind the program's back), and what entry.S gives.
 */
#ifndef PAYLOAD_H
#define PAYLOAD_H

/* The uapi types, and the kernel's compiler_attributes.h (-include). */
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline void port_write8(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void port_write16(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void port_write32(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u32 port_read32(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO, and memory the device writes (DMA) or KVM traps (the GTT). */
static inline u32 mem_read32(const void *p)
{
	u32 v;

	asm volatile("movl %1, %0" : "=r"(v) : "m"(*(const u32 *)p));
	return v;
}

static inline void mem_write32(void *p, u32 v)
{
	asm volatile("movl %1, %0" : "=m"(*(u32 *)p) : "r"(v) : "memory");
}

/* entry.S */
void msi_entry(void);
void fault_entry(void);
void ignore_entry(void);
/* payload.c, called from entry.S */
void main(void);
void msi_handler(void);
void fault_handler(void);

static inline u32 rdtsc_lo(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo;
}

#endif /* PAYLOAD_H */
