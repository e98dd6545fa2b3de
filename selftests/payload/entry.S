/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The payload's entry from a multiboot loader (QEMU -kernel): 32-bit
 * protected mode, paging off. Loads a flat GDT of its own (the loader's
 * may be gone), a stack, and calls main(); the MSI vector's stub.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000000	/* an ELF image: nothing to ask */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $stack_top, %esp
	call main
2:	cli
	hlt
	jmp 2b

/* The MSI vector: count, end the interrupt at the local APIC. */
	.globl msi_entry
msi_entry:
	pushal
	cld
	call msi_handler
	popal
	iretl

/* An exception (vectors 0-31): report it and end; it never returns. */
	.globl fault_entry
fault_entry:
	cld
	call fault_handler
3:	cli
	hlt
	jmp 3b

/* Anything else that comes in: ignored (the spurious vector). */
	.globl ignore_entry
ignore_entry:
	iretl

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.bss
	.align 16
stack:
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
