// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that uses the samples: a bare-metal program that QEMU loads as
 * a multiboot image (-kernel) into a VM (-accel kvm) with one of the
 * samples passed through as vfio-pci. It finds the function in PCI
 * config space, enables it, drives it as a guest driver would and
 * reports on QEMU's debug console (port 0xe9), one line per check; then
 * it ends QEMU through isa-debug-exit (port 0xf4): exit status 65 if
 * every check passed, 3 if one failed or the CPU took an exception
 * (QEMU's own errors are 1).
 *
 *  - mvgpu: a GTT in a page of the guest's own memory, programmed and
 *    LOADed (the device reads it as DMA); STATUS says loaded and the
 *    shadow holds the entries; a store to an entry (KVM write-protects
 *    the page and tells the device) shows in GTT_WRITES and the shadow,
 *    and raises the GTT-write MSI.
 *  - mzdev: the FMB in the guest's memory, enabled; a doorbell writes the
 *    block (format, sequence, counters) and raises MSI.
 *  - mcounter: a doorbell counts and raises MSI.
 *  - QEMU's edu device, through vfio-pci: its ID, a factorial, a DMA to
 *    its buffer and back (through both IOMMUs, QEMU's and the VM's), and
 *    an MSI.
 *
 * What is not here: paging, SMP, anything of the PC but config space
 * ports, the local APIC and the two debug ports.
 */
#include "payload.h"

#define DEBUGCON	0xe9
#define DEBUG_EXIT	0xf4
#define EXIT_PASS	0x20	/* QEMU exits (0x20 << 1) | 1 = 65 */
#define EXIT_FAIL	0x01	/* 3 */
#define LAPIC		0xfee00000u
#define MSI_VECTOR	0x40

/* The samples' PCI IDs and registers, as in mdev-samples/. */
#define VENDOR		0x1b36
#define MVGPU		0x10f0
#define MZDEV		0x10f1
#define MCOUNTER	0x10f2

#define MVGPU_ID		0x00
#define MVGPU_STATUS		0x04
#define MVGPU_IRQ_STATUS	0x0c
#define MVGPU_IRQ_ENABLE	0x10
#define MVGPU_GTT_BASE_LO	0x18
#define MVGPU_GTT_BASE_HI	0x1c
#define MVGPU_GTT_ENTRIES	0x20
#define MVGPU_GTT_CTRL		0x24
#define MVGPU_GTT_WRITES	0x28
#define MVGPU_GTT_SHADOW	0x100
#define MVGPU_IRQ_GTT_WRITE	0x2

#define MZDEV_STATUS		0x04
#define MZDEV_DOORBELL		0x08
#define MZDEV_FMB_LO		0x10
#define MZDEV_FMB_HI		0x14
#define MZDEV_FMB_CTRL		0x18

#define MCOUNTER_COUNT		0x00
#define MCOUNTER_DOORBELL	0x04

/* QEMU's edu device (docs/specs/edu.rst), through vfio-pci. */
#define EDU_VENDOR		0x1234
#define EDU			0x11e8
#define EDU_ID			0x00
#define EDU_FACT		0x08
#define EDU_STATUS		0x20	/* bit 0: computing */
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98	/* bit 0 start, bit 1 to RAM */
#define EDU_DMA_BUF		0x40000	/* the device's buffer */

static u32 msi_count;		/* __atomic: the handler counts */
static int failures;

/*
 * The GTT, alone in its page: KVM write-protects all of it. 64-bit
 * entries, as two 32-bit halves (the payload stores 32 bits at a time).
 */
static u32 gtt[1024] __aligned(4096);

/* The FMB the device writes: the format, a sequence, up to 16 counters. */
static struct {
	u32 format;
	u32 sequence;
	u64 counters[16];
} fmb __aligned(64);

struct idt_gate {
	u16 off_lo, sel;
	u8 zero, type;
	u16 off_hi;
} __packed;

static struct idt_gate idt[256] __aligned(8);

/* What edu's DMA engine copies to its buffer and back. */
static u32 dma_out[16] __aligned(64);
static u32 dma_in[16] __aligned(64);

static u32 mmio_read(u32 addr)
{
	return mem_read32((const void *)addr);
}

static void mmio_write(u32 addr, u32 v)
{
	mem_write32((void *)addr, v);
}

static void putc(char c)
{
	port_write8(DEBUGCON, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void putdigits(u32 v, int digits)
{
	while (digits--)
		putc("0123456789abcdef"[(v >> digits * 4) & 0xf]);
}

static void puthex(u32 v)
{
	puts("0x");
	putdigits(v, 8);
}

/* "<what> <name> <value>: ok|FAIL (want <want>)" */
static void check(const char *what, const char *name, u32 got,
		  u32 want)
{
	puts(what);
	putc(' ');
	puts(name);
	putc(' ');
	puthex(got);
	if (got == want) {
		puts(": ok\n");
		return;
	}
	puts(": FAIL (want ");
	puthex(want);
	puts(")\n");
	failures++;
}

/* PCI configuration mechanism #1, bus 0. */
static u32 cfg_addr(int dev, int off)
{
	return 0x80000000u | dev << 11 | (off & 0xfc);
}

static u32 cfg_read32(int dev, int off)
{
	port_write32(0xcf8, cfg_addr(dev, off));
	return port_read32(0xcfc);
}

static void cfg_write32(int dev, int off, u32 v)
{
	port_write32(0xcf8, cfg_addr(dev, off));
	port_write32(0xcfc, v);
}

static void cfg_write16(int dev, int off, u16 v)
{
	port_write32(0xcf8, cfg_addr(dev, off));
	port_write16(0xcfc + (off & 2), v);
}

static int pci_find(u16 vendor, u16 device)
{
	int dev;

	for (dev = 0; dev < 32; dev++)
		if (cfg_read32(dev, 0) == ((u32)device << 16 | vendor))
			return dev;
	return -1;
}

/* Memory decode and bus mastering on; MSI to this CPU. Returns BAR0. */
static u32 pci_enable(int dev, const char *what)
{
	u32 bar0 = cfg_read32(dev, 0x10) & ~0xfu;
	u32 cmd = cfg_read32(dev, 0x04) & 0xffff;
	int cap = cfg_read32(dev, 0x34) & 0xfc;
	int i;

	cfg_write16(dev, 0x04, cmd | 0x6);
	/* Bounded: a list that loops must not hang the guest. */
	for (i = 0; cap && i < 48 && (cfg_read32(dev, cap) & 0xff) != 0x05;
	     i++)
		cap = (cfg_read32(dev, cap) >> 8) & 0xfc;
	if (i == 48)
		cap = 0;
	puts(what);
	puts(" at 00:");
	putdigits(dev, 2);
	puts(".0 bar0 ");
	puthex(bar0);
	puts(cap ? " msi\n" : " no msi\n");
	if (cap) {
		u16 ctrl = cfg_read32(dev, cap) >> 16;

		cfg_write32(dev, cap + 4, LAPIC);
		if (ctrl & 0x80) {	/* 64-bit address */
			cfg_write32(dev, cap + 8, 0);
			cfg_write16(dev, cap + 12, MSI_VECTOR);
		} else {
			cfg_write16(dev, cap + 8, MSI_VECTOR);
		}
		cfg_write16(dev, cap + 2, ctrl | 1);
	}
	return bar0;
}

void fault_handler(void)
{
	puts("payload: FAIL: an exception\n");
	port_write8(DEBUG_EXIT, EXIT_FAIL);
}

void msi_handler(void)
{
	__atomic_fetch_add(&msi_count, 1, __ATOMIC_RELAXED);
	mmio_write(LAPIC + 0xb0, 0);	/* EOI */
}

/* Up to a bounded number of spins for @n interrupts in all. */
static u32 wait_msi(u32 n)
{
	u32 spins;

	asm volatile("sti");
	for (spins = 0; spins < 100000000u; spins++) {
		if (__atomic_load_n(&msi_count, __ATOMIC_RELAXED) >= n)
			break;
		asm volatile("pause");
	}
	asm volatile("cli");
	return __atomic_load_n(&msi_count, __ATOMIC_RELAXED);
}

static void setup_interrupts(void)
{
	struct {
		u16 limit;
		u32 base;
	} __packed idtr = { sizeof(idt) - 1, (u32)idt };
	int i;

	for (i = 0; i < 256; i++) {
		u32 h = (u32)(i == MSI_VECTOR ? msi_entry :
			      i < 32 ? fault_entry : ignore_entry);

		/* Present, ring 0, 32-bit interrupt gate, our code segment. */
		idt[i] = (struct idt_gate){ h & 0xffff, 0x08, 0, 0x8e,
					    h >> 16 };
	}
	asm volatile("lidt %0" : : "m"(idtr));
	/* The legacy PICs masked; the local APIC on, spurious vector 0xff. */
	port_write8(0x21, 0xff);
	port_write8(0xa1, 0xff);
	mmio_write(LAPIC + 0xf0, 0x1ff);
}

static void mvgpu(int dev)
{
	u32 bar = pci_enable(dev, "mvgpu");
	u32 before = __atomic_load_n(&msi_count, __ATOMIC_RELAXED);
	int i;

	check("mvgpu", "id", mmio_read(bar + MVGPU_ID), 0x4d564750);
	check("mvgpu", "status", mmio_read(bar + MVGPU_STATUS), 0x1);
	for (i = 0; i < 16; i++) {
		gtt[2 * i] = 0x1000 * i | 0x3;
		gtt[2 * i + 1] = 0;
	}
	/* Before the device reads them. */
	asm volatile("" : : : "memory");
	mmio_write(bar + MVGPU_GTT_BASE_LO, (u32)gtt);
	mmio_write(bar + MVGPU_GTT_BASE_HI, 0);
	mmio_write(bar + MVGPU_GTT_ENTRIES, 16);
	mmio_write(bar + MVGPU_GTT_CTRL, 1);	/* LOAD */
	check("mvgpu", "loaded-status", mmio_read(bar + MVGPU_STATUS), 0x3);
	check("mvgpu", "shadow[5]", mmio_read(bar + MVGPU_GTT_SHADOW + 5 * 8),
	      0x5003);

	mmio_write(bar + MVGPU_IRQ_ENABLE, MVGPU_IRQ_GTT_WRITE);
	/* One store to entry 7, trapped: the page is write-protected. */
	mem_write32(&gtt[2 * 7], 0xcafef00d);
	check("mvgpu", "gtt-writes", mmio_read(bar + MVGPU_GTT_WRITES), 1);
	check("mvgpu", "shadow[7]", mmio_read(bar + MVGPU_GTT_SHADOW + 7 * 8),
	      0xcafef00d);
	check("mvgpu", "irq-status", mmio_read(bar + MVGPU_IRQ_STATUS),
	      MVGPU_IRQ_GTT_WRITE);
	check("mvgpu", "msi", wait_msi(before + 1) - before, 1);
	mmio_write(bar + MVGPU_IRQ_STATUS, MVGPU_IRQ_GTT_WRITE);
	mmio_write(bar + MVGPU_GTT_CTRL, 2);	/* UNLOAD */
	check("mvgpu", "unloaded-status", mmio_read(bar + MVGPU_STATUS), 0x1);
}

static void mzdev(int dev)
{
	u32 bar = pci_enable(dev, "mzdev");
	u32 before = __atomic_load_n(&msi_count, __ATOMIC_RELAXED);

	check("mzdev", "status", mmio_read(bar + MZDEV_STATUS), 0x1);
	mmio_write(bar + MZDEV_FMB_LO, (u32)&fmb);
	mmio_write(bar + MZDEV_FMB_HI, 0);
	mmio_write(bar + MZDEV_FMB_CTRL, 1);
	check("mzdev", "fmb-ctrl", mmio_read(bar + MZDEV_FMB_CTRL), 1);
	mmio_write(bar + MZDEV_DOORBELL, 1);
	check("mzdev", "fmb-format", mem_read32(&fmb.format), 1);
	check("mzdev", "fmb-sequence", mem_read32(&fmb.sequence), 1);
	check("mzdev", "fmb-counter0", mem_read32(&fmb.counters[0]), 1);
	check("mzdev", "status-after", mmio_read(bar + MZDEV_STATUS), 0x1);
	check("mzdev", "msi", wait_msi(before + 1) - before, 1);
}

/* edu's DMA of @count bytes, @cmd's direction; true once it is done. */
static int edu_dma(u32 bar, u32 src, u32 dst, u32 count, u32 cmd)
{
	u32 spins;

	mmio_write(bar + EDU_DMA_SRC, src);
	mmio_write(bar + EDU_DMA_SRC + 4, 0);
	mmio_write(bar + EDU_DMA_DST, dst);
	mmio_write(bar + EDU_DMA_DST + 4, 0);
	mmio_write(bar + EDU_DMA_COUNT, count);
	mmio_write(bar + EDU_DMA_CMD, cmd | 1);
	for (spins = 0; spins < 10000000u; spins++)
		if (!(mmio_read(bar + EDU_DMA_CMD) & 1))
			return 1;
	return 0;
}

static void edu(int dev)
{
	u32 bar = pci_enable(dev, "edu");
	u32 before = __atomic_load_n(&msi_count, __ATOMIC_RELAXED);
	/* Different each run: the device keeps what the last one left. */
	u32 seed = rdtsc_lo(), n = 6 + (seed & 3), fact = 1;
	u32 spins, i, same = 0;

	check("edu", "id", mmio_read(bar + EDU_ID), 0x010000ed);
	for (i = 2; i <= n; i++)
		fact *= i;
	mmio_write(bar + EDU_FACT, n);
	for (spins = 0; spins < 10000000u; spins++)
		if (!(mmio_read(bar + EDU_STATUS) & 1))
			break;
	check("edu", "factorial", mmio_read(bar + EDU_FACT), fact);

	/* To the device's buffer and back, through the IOMMUs. */
	for (i = 0; i < ARRAY_SIZE(dma_out); i++) {
		dma_out[i] = (seed << 8) ^ (0x5a000000 | i);
		dma_in[i] = 0;
	}
	asm volatile("" : : : "memory");
	check("edu", "dma-to-device",
	      edu_dma(bar, (u32)dma_out, EDU_DMA_BUF, sizeof(dma_out), 0), 1);
	check("edu", "dma-to-ram",
	      edu_dma(bar, EDU_DMA_BUF, (u32)dma_in, sizeof(dma_in), 2), 1);
	for (i = 0; i < ARRAY_SIZE(dma_in); i++)
		same += mem_read32(&dma_in[i]) == dma_out[i];
	check("edu", "dma-words-back", same, ARRAY_SIZE(dma_in));

	mmio_write(bar + EDU_IRQ_RAISE, 0x1);
	check("edu", "msi", wait_msi(before + 1) - before, 1);
	check("edu", "irq-status", mmio_read(bar + EDU_IRQ_STATUS), 0x1);
	mmio_write(bar + EDU_IRQ_ACK, 0x1);
}

static void mcounter(int dev)
{
	u32 bar = pci_enable(dev, "mcounter");
	u32 before = __atomic_load_n(&msi_count, __ATOMIC_RELAXED);

	mmio_write(bar + MCOUNTER_DOORBELL, 1);
	check("mcounter", "count", mmio_read(bar + MCOUNTER_COUNT), 1);
	check("mcounter", "msi", wait_msi(before + 1) - before, 1);
}

void main(void)
{
	static const struct {
		u16 vendor, id;
		void (*run)(int dev);
	} samples[] = {
		{ VENDOR, MVGPU, mvgpu }, { VENDOR, MZDEV, mzdev },
		{ VENDOR, MCOUNTER, mcounter }, { EDU_VENDOR, EDU, edu },
	};
	int dev, found = 0;
	unsigned int i;

	puts("payload: start\n");
	setup_interrupts();
	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		dev = pci_find(samples[i].vendor, samples[i].id);
		if (dev < 0)
			continue;
		found++;
		samples[i].run(dev);
	}
	if (!found) {
		puts("payload: no sample found\n");
		failures++;
	}
	puts(failures ? "payload: FAIL\n" : "payload: ok\n");
	port_write8(DEBUG_EXIT, failures ? EXIT_FAIL : EXIT_PASS);
}
