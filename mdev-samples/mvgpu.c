// SPDX-License-Identifier: GPL-2.0
/*
 * mvgpu: a mediated vGPU that cannot work without KVM, the way i915's
 * GVT-g (kvmgt) cannot.
 *
 * This sample shows how a VFIO mdev driver declares a hard dependency on
 * KVM with struct vfio_device_kvm_ops and what it does with the VM the
 * VFIO core pins for it:
 *
 *  - kvm_ops with .required = true, and nothing else: the core pins the VM
 *    (a reference on its file, which keeps the VM and kvm-amd/kvm-intel)
 *    before open and drops it after close; opening the device with no VM
 *    fails in the core (-EINVAL, one log line), and so does opening it
 *    once the VMM has closed the VM (-ENOENT);
 *  - at open, one vGPU per VM (-EEXIST for a second), and a KVM page-track
 *    notifier on the VM; at close, the reverse, in reverse order; the VM's
 *    own teardown, if the pin was its last reference, runs after that,
 *    outside every VFIO lock;
 *  - guest memory is reached the way kvmgt reaches it: as DMA, through
 *    vfio_dma_rw() on the device (the IOVA space the VMM mapped, on the
 *    group and the iommufd path alike), never through KVM; KVM is used
 *    only for what needs the VM: write-protecting the GTT's pages and
 *    hearing of the guest's writes to them.
 *
 * The register interface (BAR0, 32-bit accesses only) is a small state
 * machine, enforced below:
 *
 *   CLOSED --open--> IDLE --GTT_CTRL=LOAD, table valid--> LOADED
 *                     ^ |                                  |
 *                     | +--LOAD, table invalid: GTT_ERROR--+
 *                     +---- UNLOAD, reset, close, a memslot of the
 *                           table deleted (then GTT_ERROR) -----+
 *
 *  - IDLE: GTT_BASE_LO/HI and GTT_ENTRIES are writable; GTT_SHADOW reads
 *    0. LOAD latches them, write-protects the table's pages (at most two)
 *    and only then reads the table into GTT_SHADOW, so that no guest
 *    write is lost between the two; a table that is misaligned, empty,
 *    larger than the type allows, not mapped for DMA or outside guest
 *    memory leaves the device IDLE with STATUS_GTT_ERROR set. The write
 *    returns once the load is done (or failed).
 *  - LOADED: GTT_BASE_LO/HI and GTT_ENTRIES are read-only (writes are
 *    ignored), from the moment LOAD latches them: what is protected and
 *    shadowed is only ever the table that was loaded. A vCPU write to a
 *    protected page that lands in the table updates the shadow, counts in
 *    GTT_WRITES and raises IRQ_GTT_WRITE. LOAD reloads the same table;
 *    UNLOAD unprotects, clears the shadow and goes IDLE.
 *  - In any open state: DOORBELL counts and raises IRQ_DOORBELL;
 *    IRQ_STATUS is write-1-to-clear; IRQ_ENABLE takes the known bits.
 *    Unknown registers read 0 and ignore writes.
 *  - Interrupts: MSI or INTx, one at a time. INTx is level-triggered:
 *    it masks itself when it fires, and fires again at unmask if an
 *    enabled cause is still pending. The VMM unmasks with SET_IRQS
 *    (ACTION_UNMASK), or gives an eventfd to unmask (ACTION_UNMASK with
 *    DATA_EVENTFD): with KVM, the resample irqfd that KVM signals when
 *    the guest ends the interrupt, as QEMU sets up for vfio-pci.
 *  - Reset (VFIO_DEVICE_RESET): UNLOAD, every register, the interrupts
 *    and BAR2 back to power-on state (BAR2 zeroed).
 *  - Close: the same, and BAR2's memory is freed: each open gets a new
 *    aperture, so that nothing one VM wrote, or still holds pinned from
 *    an old mapping, is shared with the next.
 *
 * Nothing KVM waits for sleeps on user memory: every copy from or to the
 * user (the register values, BAR2, SET_IRQS's eventfd) and the DMA read
 * of LOAD run without mg->lock, which the vCPUs' write notifier and
 * KVM's memslot notifier take; the locks held across a DMA or a BAR2
 * copy (load_lock, aperture_lock) are taken interruptibly. What the driver
 * cannot change: while vfio_dma_rw() waits, the IOMMU backend holds its
 * own lock (type1's iommu->lock, iommufd's IOAS locks), so the VMM's DMA
 * map and unmap calls wait for it too.
 *
 * The rest is a plain emulated PCI function: config space with BAR0 (the
 * registers above) and BAR2 (an aperture of memory userspace can mmap),
 * INTx and MSI through eventfds. Three types of vGPU take their aperture
 * from one budget (module parameter aperture_mb).
 *
 * The device's sysfs attribute "vm" names the VM a vGPU is open in (KVM's
 * stats id, "kvm-<pid of the VMM>"), or "none": what an admin looks at to
 * see which VMM holds a vGPU. /sys/kernel/debug/mvgpu/<uuid>/gtt shows
 * the loaded table, the pages it protects and how many writes KVM
 * reported, for the tests.
 *
 * Left out on purpose: any real graphics, display, migration, a vIOMMU
 * (the GTT address is a guest-physical address, used as the IOVA too, as
 * it is without one), and the GTT entries' meaning (only shadowed).
 */
#include <linux/cdev.h>
#include <linux/debugfs.h>
#include <linux/eventfd.h>
#include <linux/kvm_host.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/seq_file.h>
#include <linux/unaligned.h>
#include <linux/vfio.h>
#include <linux/vmalloc.h>
#include <asm/kvm_page_track.h>

#define MVGPU_NAME		"mvgpu"
#define MVGPU_VENDOR		0x1b36	/* made up: not a real device */
#define MVGPU_DEVICE		0x10f0

/* VFIO region offsets: the index in the top bits, as vfio-pci does. */
#define MVGPU_OFFSET_SHIFT	40
#define MVGPU_OFFSET_MASK	((1ULL << MVGPU_OFFSET_SHIFT) - 1)
#define MVGPU_INDEX_TO_OFFSET(i) ((u64)(i) << MVGPU_OFFSET_SHIFT)

#define MVGPU_CONFIG_SIZE	256
#define MVGPU_BAR0_SIZE		4096
#define MVGPU_MSI_CAP		0x40

/* BAR0 registers, 32 bits each. */
#define MVGPU_REG_ID		0x00	/* RO: MVGPU_ID */
#define MVGPU_REG_STATUS	0x04	/* RO: MVGPU_STATUS_* */
#define MVGPU_REG_DOORBELL	0x08	/* WO: counts, raises IRQ_DOORBELL */
#define MVGPU_REG_IRQ_STATUS	0x0c	/* RW1C: MVGPU_IRQ_* */
#define MVGPU_REG_IRQ_ENABLE	0x10	/* RW: MVGPU_IRQ_* */
#define MVGPU_REG_DOORBELLS	0x14	/* RO: doorbells rung */
#define MVGPU_REG_GTT_BASE_LO	0x18	/* RW in IDLE: GTT address */
#define MVGPU_REG_GTT_BASE_HI	0x1c
#define MVGPU_REG_GTT_ENTRIES	0x20	/* RW in IDLE: 8-byte entries */
#define MVGPU_REG_GTT_CTRL	0x24	/* WO: MVGPU_GTT_LOAD/UNLOAD */
#define MVGPU_REG_GTT_WRITES	0x28	/* RO: guest writes to the GTT */
#define MVGPU_REG_GTT_SHADOW	0x100	/* RO: the entries as read */

#define MVGPU_ID		0x4d564750	/* "MVGP" */
#define MVGPU_STATUS_VM		BIT(0)	/* a VM is pinned */
#define MVGPU_STATUS_GTT	BIT(1)	/* the GTT is shadowed, protected */
#define MVGPU_STATUS_GTT_ERROR	BIT(2)	/* the last load failed */
#define MVGPU_IRQ_DOORBELL	BIT(0)
#define MVGPU_IRQ_GTT_WRITE	BIT(1)
#define MVGPU_GTT_LOAD		1
#define MVGPU_GTT_UNLOAD	2
#define MVGPU_GTT_MAX_ENTRIES	((MVGPU_BAR0_SIZE - MVGPU_REG_GTT_SHADOW) / 8)
/* The largest table is under a page: it spans at most two. */
#define MVGPU_GTT_MAX_PAGES	2
static_assert(MVGPU_GTT_MAX_ENTRIES * 8 <= PAGE_SIZE);

struct mvgpu_type {
	struct mdev_type type;
	unsigned int aperture_mb;
	unsigned int gtt_entries;
};

struct mvgpu {
	struct vfio_device vdev;
	const struct mvgpu_type *type;
	/* BAR2, vmalloc_user() at open, freed at close */
	void *aperture;
	struct mutex aperture_lock;	/* copies to and from it, the reset */
	struct mutex load_lock;		/* one LOAD at a time */
	/*
	 * The interrupt setup (SET_IRQS, reset, close), outside mg->lock:
	 * irq_index and irq_trigger change under both, and the INTx unmask
	 * eventfd, whose work takes mg->lock, is torn down under this one.
	 */
	struct mutex irq_lock;
	struct virqfd *intx_unmask;	/* vfio_virqfd_*(), its own lock */
	struct eventfd_ctx *intx_unmask_ctx;	/* under irq_lock: on */
	struct list_head vm_node;	/* in mvgpu_vms, while open */
	struct kvm_page_track_notifier_node track_node;
	struct dentry *debugfs;

	struct mutex lock;		/* the state below */
	u8 config[MVGPU_CONFIG_SIZE];
	u32 irq_status;
	u32 irq_enable;
	u32 doorbells;
	u64 gtt_base;			/* the registers, written in IDLE */
	u32 gtt_entries;
	u32 gtt_writes;
	bool gtt_error;
	/*
	 * The table LOAD latched: the only one tracked and shadowed. Each
	 * bit of @tracked is one write-tracking reference held on @gfn[i].
	 * @gen counts unloads, @seq the guest writes to the latched table:
	 * a LOAD that reads without mg->lock checks both afterwards.
	 */
	struct {
		u64 base;
		u32 entries;		/* 0: IDLE */
		bool loading;		/* latched, protected, not yet read */
		gfn_t gfn[MVGPU_GTT_MAX_PAGES];
		unsigned long tracked;
		u64 gen;		/* u64: they never wrap */
		u64 seq;
	} gtt;
	u32 track_notified;		/* track_write() calls, for debugfs */
	u64 gtt_shadow[MVGPU_GTT_MAX_ENTRIES];
	int irq_index;			/* VFIO_PCI_*_IRQ_INDEX, or -1 */
	struct eventfd_ctx *irq_trigger;
	bool intx_masked;
};

static unsigned int aperture_mb = 64;
module_param(aperture_mb, uint, 0444);
MODULE_PARM_DESC(aperture_mb, "aperture memory shared by all vGPUs, in MiB");

static atomic_t mvgpu_avail_mb;

/* The VMs that have an open vGPU: one vGPU per VM, as kvmgt allows. */
static LIST_HEAD(mvgpu_vms);
static DEFINE_MUTEX(mvgpu_vms_lock);

static struct mvgpu_type mvgpu_types[] = {
	{ .type.sysfs_name = "small",
	  .type.pretty_name = "vGPU, 4 MiB aperture",
	  .aperture_mb = 4, .gtt_entries = 64 },
	{ .type.sysfs_name = "medium",
	  .type.pretty_name = "vGPU, 8 MiB aperture",
	  .aperture_mb = 8, .gtt_entries = 128 },
	{ .type.sysfs_name = "large",
	  .type.pretty_name = "vGPU, 16 MiB aperture",
	  .aperture_mb = 16, .gtt_entries = 256 },
};

static struct mdev_type *mvgpu_mdev_types[] = {
	&mvgpu_types[0].type, &mvgpu_types[1].type, &mvgpu_types[2].type,
};

static struct {
	struct device dev;
	struct mdev_parent parent;
	struct class *class;
	struct dentry *debugfs;
} mvgpu_parent;

static struct mvgpu *to_mvgpu(struct vfio_device *vdev)
{
	return container_of(vdev, struct mvgpu, vdev);
}

/* --- interrupts ------------------------------------------------------- */

static void mvgpu_raise(struct mvgpu *mg, u32 cause)
{
	lockdep_assert_held(&mg->lock);

	mg->irq_status |= cause;
	if (!(mg->irq_status & mg->irq_enable) || !mg->irq_trigger)
		return;
	if (mg->irq_index == VFIO_PCI_INTX_IRQ_INDEX) {
		/* INTx is level-triggered: masked until the user unmasks. */
		if (mg->intx_masked)
			return;
		mg->intx_masked = true;
	}
	eventfd_signal(mg->irq_trigger);
}

static void mvgpu_irq_disable(struct mvgpu *mg)
{
	lockdep_assert_held(&mg->irq_lock);
	lockdep_assert_held(&mg->lock);

	if (mg->irq_trigger)
		eventfd_ctx_put(mg->irq_trigger);
	mg->irq_trigger = NULL;
	mg->irq_index = -1;
	mg->intx_masked = false;
}

/* Unmasks INTx; with the cause still pending, it fires again. */
static void mvgpu_intx_unmask(struct mvgpu *mg)
{
	lockdep_assert_held(&mg->lock);

	if (mg->irq_index != VFIO_PCI_INTX_IRQ_INDEX)
		return;
	mg->intx_masked = false;
	if (mg->irq_status & mg->irq_enable)
		mvgpu_raise(mg, 0);
}

/*
 * The unmask eventfd was signalled: KVM's resampler says the guest ended
 * the interrupt. virqfd runs this from a workqueue, so it may sleep on
 * mg->lock; vfio_virqfd_disable() waits for it.
 */
static void mvgpu_intx_unmask_work(void *opaque, void *unused)
{
	struct mvgpu *mg = opaque;

	guard(mutex)(&mg->lock);
	mvgpu_intx_unmask(mg);
}

/*
 * Removes the unmask eventfd. virqfd is in vfio.ko when something selects
 * it (vfio-pci does); without it, there is none to remove.
 */
static void mvgpu_intx_unmask_off(struct mvgpu *mg)
{
	lockdep_assert_held(&mg->irq_lock);
	/* vfio_virqfd_disable() waits for the work, which takes mg->lock. */
	lockdep_assert_not_held(&mg->lock);

	if (!IS_ENABLED(CONFIG_VFIO_VIRQFD) || !mg->intx_unmask_ctx)
		return;
	vfio_virqfd_disable(&mg->intx_unmask);
	eventfd_ctx_put(mg->intx_unmask_ctx);
	mg->intx_unmask_ctx = NULL;
}

/* Once INTx is disabled, its unmask eventfd goes too. */
static void mvgpu_intx_unmask_sync(struct mvgpu *mg)
{
	if (mg->irq_index != VFIO_PCI_INTX_IRQ_INDEX)
		mvgpu_intx_unmask_off(mg);
}

/*
 * ACTION_UNMASK with DATA_EVENTFD, what a VMM with KVM sets up for INTx:
 * KVM signals the eventfd (a resample irqfd) when the guest ends the
 * interrupt, and the device unmasks. Like vfio-pci, only once INTx is
 * enabled; fd -1 removes it, a new fd replaces it. Not INTx's own
 * eventfd, which would unmask INTx each time it fires.
 */
static int mvgpu_intx_unmask_eventfd(struct mvgpu *mg,
				     struct vfio_irq_set *hdr, s32 fd)
{
	struct eventfd_ctx *ctx;
	int ret;

	lockdep_assert_held(&mg->irq_lock);

	if (!hdr->count)
		return -EINVAL;
	if (fd >= 0 && mg->irq_index != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;
	mvgpu_intx_unmask_off(mg);
	if (fd < 0)
		return 0;
	if (!IS_ENABLED(CONFIG_VFIO_VIRQFD))
		return -EOPNOTSUPP;
	ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	/* INTx's own eventfd would unmask it as it fires: a busy loop. */
	if (ctx == mg->irq_trigger) {
		ret = -EINVAL;
		goto err_put_ctx;
	}
	ret = vfio_virqfd_enable(mg, NULL, mvgpu_intx_unmask_work, NULL,
				 &mg->intx_unmask, fd);
	if (ret)
		goto err_put_ctx;
	/* A reference of ours, for that check; mvgpu_intx_unmask_off(). */
	mg->intx_unmask_ctx = ctx;
	return 0;

err_put_ctx:
	eventfd_ctx_put(ctx);
	return ret;
}

/* SET_IRQS under mg->lock; takes *@trigger's reference when it uses it. */
static int mvgpu_set_irqs_locked(struct mvgpu *mg, struct vfio_irq_set *hdr,
				 s32 fd, struct eventfd_ctx **trigger)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

	lockdep_assert_held(&mg->lock);

	if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX &&
	    (action == VFIO_IRQ_SET_ACTION_MASK ||
	     action == VFIO_IRQ_SET_ACTION_UNMASK)) {
		if (type != VFIO_IRQ_SET_DATA_NONE || !hdr->count)
			return -EINVAL;
		if (mg->irq_index != VFIO_PCI_INTX_IRQ_INDEX)
			return -EINVAL;
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			mg->intx_masked = true;
		else
			mvgpu_intx_unmask(mg);
		return 0;
	}
	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;

	if (type == VFIO_IRQ_SET_DATA_NONE) {
		if (!hdr->count) {
			if (mg->irq_index == hdr->index)
				mvgpu_irq_disable(mg);
			return 0;
		}
		if (mg->irq_index != hdr->index || !mg->irq_trigger)
			return -EINVAL;
		eventfd_signal(mg->irq_trigger);	/* loopback test */
		return 0;
	}
	if (type != VFIO_IRQ_SET_DATA_EVENTFD)
		return -EINVAL;
	/* No eventfd to read unless the caller passed one (count). */
	if (!hdr->count)
		return 0;
	if (fd < 0) {
		if (mg->irq_index == hdr->index)
			mvgpu_irq_disable(mg);
		return 0;
	}
	/* One interrupt type at a time, as on real hardware. */
	if (mg->irq_index >= 0 && mg->irq_index != hdr->index)
		return -EBUSY;
	/* Not the unmask eventfd: INTx would unmask itself as it fires. */
	if (*trigger == mg->intx_unmask_ctx)
		return -EINVAL;
	mvgpu_irq_disable(mg);
	/* The reference eventfd_ctx_fdget() took is the device's now. */
	mg->irq_trigger = *trigger;
	*trigger = NULL;
	mg->irq_index = hdr->index;
	return 0;
}

static int mvgpu_set_irqs(struct mvgpu *mg, struct vfio_irq_set *hdr,
			  void __user *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct eventfd_ctx *trigger = NULL;
	s32 fd = -1;
	int ret;

	/* Before any lock: the copy may fault on the user's memory. */
	if (type == VFIO_IRQ_SET_DATA_EVENTFD && hdr->count &&
	    copy_from_user(&fd, data, sizeof(fd)))
		return -EFAULT;

	if (mutex_lock_interruptible(&mg->irq_lock))
		return -ERESTARTSYS;
	if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX &&
	    action == VFIO_IRQ_SET_ACTION_UNMASK &&
	    type == VFIO_IRQ_SET_DATA_EVENTFD) {
		ret = mvgpu_intx_unmask_eventfd(mg, hdr, fd);
		goto out_unlock;
	}
	if (action == VFIO_IRQ_SET_ACTION_TRIGGER &&
	    type == VFIO_IRQ_SET_DATA_EVENTFD && fd >= 0) {
		trigger = eventfd_ctx_fdget(fd);
		if (IS_ERR(trigger)) {
			ret = PTR_ERR(trigger);
			goto out_unlock;
		}
	}

	mutex_lock(&mg->lock);
	ret = mvgpu_set_irqs_locked(mg, hdr, fd, &trigger);
	mutex_unlock(&mg->lock);
	/* Not taken over by the device: an error, or nothing to replace. */
	if (trigger)
		eventfd_ctx_put(trigger);
	mvgpu_intx_unmask_sync(mg);
out_unlock:
	mutex_unlock(&mg->irq_lock);
	return ret;
}

/* --- the GTT: read as DMA, write-protected through KVM ---------------- */

/* LOADED: the table is latched, protected and in the shadow. */
static bool mvgpu_gtt_loaded(struct mvgpu *mg)
{
	return mg->gtt.entries && !mg->gtt.loading;
}

/* Latched (LOADED, or a LOAD under way): the registers are read-only. */
static bool mvgpu_gtt_latched(struct mvgpu *mg)
{
	return mg->gtt.entries;
}

/* Drops the write tracking LOAD took, and the latched table: IDLE. */
static void mvgpu_gtt_unload(struct mvgpu *mg)
{
	unsigned int i;

	lockdep_assert_held(&mg->lock);

	for_each_set_bit(i, &mg->gtt.tracked, MVGPU_GTT_MAX_PAGES)
		kvm_write_track_remove_gfn(mg->vdev.kvm, mg->gtt.gfn[i]);
	mg->gtt.tracked = 0;
	mg->gtt.entries = 0;
	mg->gtt.loading = false;
	/* A LOAD reading without mg->lock now drops what it read. */
	mg->gtt.gen++;
	memset(mg->gtt_shadow, 0, sizeof(mg->gtt_shadow));
}

/*
 * The first half of LOAD, under mg->lock: latches the table the
 * registers describe and write-protects its pages.
 */
static int mvgpu_gtt_protect(struct mvgpu *mg)
{
	u64 base = mg->gtt_base, len = (u64)mg->gtt_entries * 8;
	gfn_t first, last;
	unsigned int i;
	int ret;

	lockdep_assert_held(&mg->lock);

	mvgpu_gtt_unload(mg);
	if (!mg->gtt_entries || mg->gtt_entries > mg->type->gtt_entries ||
	    !IS_ALIGNED(base, 8) || base + len < base)
		return -EINVAL;

	mg->gtt.base = base;
	mg->gtt.entries = mg->gtt_entries;
	mg->gtt.loading = true;
	first = gpa_to_gfn(base);
	last = gpa_to_gfn(base + len - 1);
	for (i = 0; i <= last - first; i++) {
		mg->gtt.gfn[i] = first + i;
		/* Fails for a gfn outside every memslot. */
		ret = kvm_write_track_add_gfn(mg->vdev.kvm, mg->gtt.gfn[i]);
		if (ret) {
			mvgpu_gtt_unload(mg);
			return ret;
		}
		/* One tracking reference, ours until mvgpu_gtt_unload(). */
		__set_bit(i, &mg->gtt.tracked);
	}
	return 0;
}

/* How often LOAD reads again when the guest writes the table meanwhile. */
#define MVGPU_GTT_LOAD_TRIES	4

/*
 * LOAD: protects, then reads the table as DMA, through the IOMMU, with
 * vfio_dma_rw(). Protecting first means that a guest write racing with
 * the load is either in memory before the read, or reported to
 * mvgpu_track_write(), which counts it in gtt.seq: the load then reads
 * again. The read runs without mg->lock: it may fault on memory the VMM
 * chose (userfaultfd, FUSE) and sleep as long as the VMM likes, and the
 * vCPUs' write notifier and the memslot notifier take mg->lock. Whatever
 * unloads meanwhile (UNLOAD, reset, a memslot deleted) bumps gtt.gen, and
 * the load drops what it read. Runs between open_device() and
 * close_device(), so vdev.kvm is pinned and the notifier registered.
 * Returns 0 (the outcome is in STATUS) or -ERESTARTSYS.
 */
static int mvgpu_gtt_load(struct mvgpu *mg)
{
	unsigned int tries;
	int ret;
	u64 *table;
	size_t len;
	u64 base, gen, seq;

	if (mutex_lock_interruptible(&mg->load_lock))
		return -ERESTARTSYS;
	table = kmalloc(sizeof(mg->gtt_shadow), GFP_KERNEL);

	mutex_lock(&mg->lock);
	ret = table ? mvgpu_gtt_protect(mg) : -ENOMEM;
	if (ret)
		goto out_error;
	base = mg->gtt.base;
	len = (size_t)mg->gtt.entries * 8;
	gen = mg->gtt.gen;
	for (tries = 0; tries < MVGPU_GTT_LOAD_TRIES; tries++) {
		seq = mg->gtt.seq;
		mutex_unlock(&mg->lock);
		ret = vfio_dma_rw(&mg->vdev, base, table, len, false);
		mutex_lock(&mg->lock);
		/* Unloaded meanwhile: the state is no longer this load's. */
		if (mg->gtt.gen != gen)
			goto out_unlock;
		if (ret)
			break;
		if (mg->gtt.seq == seq) {
			memcpy(mg->gtt_shadow, table, len);
			mg->gtt.loading = false;
			mg->gtt_error = false;
			goto out_unlock;
		}
	}
	/* The read failed, or the guest kept writing the table. */
	mvgpu_gtt_unload(mg);
out_error:
	mg->gtt_error = true;
out_unlock:
	mutex_unlock(&mg->lock);
	kfree(table);
	mutex_unlock(&mg->load_lock);
	return 0;
}

/* A vCPU wrote to a page of the VM that someone write-protects. */
static void mvgpu_track_write(gpa_t gpa, const u8 *val, int len,
			      struct kvm_page_track_notifier_node *node)
{
	struct mvgpu *mg = container_of(node, struct mvgpu, track_node);
	u64 start, end, lo, hi;

	guard(mutex)(&mg->lock);
	mg->track_notified++;
	if (!mvgpu_gtt_latched(mg) || len <= 0)
		return;
	/* Only the latched table: the registers may say anything. */
	start = mg->gtt.base;
	end = start + (u64)mg->gtt.entries * 8;
	lo = max_t(u64, gpa, start);
	hi = min_t(u64, gpa + len, end);
	if (lo >= hi)
		return;
	/* Keep the shadow in sync; a LOAD under way reads again. */
	if (mvgpu_gtt_loaded(mg))
		memcpy((u8 *)mg->gtt_shadow + (lo - start), val + (lo - gpa),
		       hi - lo);
	mg->gtt.seq++;
	mg->gtt_writes++;
	mvgpu_raise(mg, MVGPU_IRQ_GTT_WRITE);
}

/*
 * A memslot is deleted (KVM refuses to move one while we are
 * registered). KVM drops the slot's write tracking itself, so those
 * references are no longer ours; a table that lost part of its memory
 * is unloaded, which drops what we still hold in the other slot.
 */
static void mvgpu_track_remove_region(gfn_t gfn, unsigned long nr_pages,
				      struct kvm_page_track_notifier_node *node)
{
	struct mvgpu *mg = container_of(node, struct mvgpu, track_node);
	bool lost = false;
	unsigned int i;

	guard(mutex)(&mg->lock);
	for_each_set_bit(i, &mg->gtt.tracked, MVGPU_GTT_MAX_PAGES) {
		if (mg->gtt.gfn[i] >= gfn && mg->gtt.gfn[i] - gfn < nr_pages) {
			/* The reference went with the slot. */
			__clear_bit(i, &mg->gtt.tracked);
			lost = true;
		}
	}
	if (!lost)
		return;
	mvgpu_gtt_unload(mg);
	mg->gtt_error = true;
}

/* --- config space and registers --------------------------------------- */

static void mvgpu_config_init(struct mvgpu *mg)
{
	u8 *c = mg->config;

	memset(c, 0, sizeof(mg->config));
	*(__le16 *)&c[PCI_VENDOR_ID] = cpu_to_le16(MVGPU_VENDOR);
	*(__le16 *)&c[PCI_DEVICE_ID] = cpu_to_le16(MVGPU_DEVICE);
	*(__le16 *)&c[PCI_STATUS] = cpu_to_le16(PCI_STATUS_CAP_LIST);
	*(__le32 *)&c[PCI_CLASS_REVISION] =
		cpu_to_le32(PCI_CLASS_DISPLAY_OTHER << 16 | 0x01);
	*(__le32 *)&c[PCI_BASE_ADDRESS_0] =
		cpu_to_le32(PCI_BASE_ADDRESS_SPACE_MEMORY);
	*(__le32 *)&c[PCI_BASE_ADDRESS_2] =
		cpu_to_le32(PCI_BASE_ADDRESS_MEM_TYPE_64 |
			    PCI_BASE_ADDRESS_MEM_PREFETCH);
	*(__le16 *)&c[PCI_SUBSYSTEM_VENDOR_ID] = cpu_to_le16(MVGPU_VENDOR);
	*(__le16 *)&c[PCI_SUBSYSTEM_ID] = cpu_to_le16(MVGPU_DEVICE);
	c[PCI_CAPABILITY_LIST] = MVGPU_MSI_CAP;
	c[PCI_INTERRUPT_PIN] = 1;
	/* MSI, one vector, 64-bit addresses; QEMU emulates the rest. */
	c[MVGPU_MSI_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSI;
	*(__le16 *)&c[MVGPU_MSI_CAP + PCI_MSI_FLAGS] =
		cpu_to_le16(PCI_MSI_FLAGS_64BIT);
}

/* A value of 1, 2 or 4 bytes as PCI has it: little-endian. */
static u32 mvgpu_get_le(const u8 *p, unsigned int len)
{
	return len == 4 ? get_unaligned_le32(p) :
	       len == 2 ? get_unaligned_le16(p) : *p;
}

static void mvgpu_put_le(u8 *p, u32 val, unsigned int len)
{
	if (len == 4)
		put_unaligned_le32(val, p);
	else if (len == 2)
		put_unaligned_le16(val, p);
	else
		*p = val;
}

static void mvgpu_config_write(struct mvgpu *mg, unsigned int off, u32 val,
			       unsigned int len)
{
	u64 size = (u64)mg->type->aperture_mb << 20;
	u8 *c = mg->config;
	u32 bar;

	switch (off) {
	case PCI_COMMAND:
		if (len == 2 || len == 4)
			*(__le16 *)&c[off] = cpu_to_le16(val &
				(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				 PCI_COMMAND_INTX_DISABLE));
		break;
	case PCI_BASE_ADDRESS_0:
		if (len != 4)
			break;
		bar = (val & ~(MVGPU_BAR0_SIZE - 1)) |
		      PCI_BASE_ADDRESS_SPACE_MEMORY;
		*(__le32 *)&c[off] = cpu_to_le32(bar);
		break;
	case PCI_BASE_ADDRESS_2:	/* 64-bit BAR: low half */
		if (len != 4)
			break;
		bar = (val & ~(u32)(size - 1)) | PCI_BASE_ADDRESS_MEM_TYPE_64 |
		      PCI_BASE_ADDRESS_MEM_PREFETCH;
		*(__le32 *)&c[off] = cpu_to_le32(bar);
		break;
	case PCI_BASE_ADDRESS_3:	/* high half: the aperture is < 4 GiB */
		if (len == 4)
			*(__le32 *)&c[off] = cpu_to_le32(val);
		break;
	case PCI_INTERRUPT_LINE:
		if (len == 1)
			c[off] = val;
		break;
	default:
		/* MSI control, address and data belong to the user (QEMU). */
		if (off >= MVGPU_MSI_CAP + PCI_MSI_FLAGS &&
		    off + len <= MVGPU_MSI_CAP + PCI_MSI_DATA_64 + 2)
			mvgpu_put_le(&c[off], val, len);
		/* Everything else is read-only. */
		break;
	}
}

static u32 mvgpu_reg_read(struct mvgpu *mg, unsigned int off)
{
	lockdep_assert_held(&mg->lock);

	if (off >= MVGPU_REG_GTT_SHADOW) {
		off -= MVGPU_REG_GTT_SHADOW;
		/* The entries as read: guest memory's byte order. */
		return get_unaligned_le32((u8 *)mg->gtt_shadow + off);
	}

	switch (off) {
	case MVGPU_REG_ID:
		return MVGPU_ID;
	case MVGPU_REG_STATUS:
		return (mg->vdev.kvm ? MVGPU_STATUS_VM : 0) |
		       (mvgpu_gtt_loaded(mg) ? MVGPU_STATUS_GTT : 0) |
		       (mg->gtt_error ? MVGPU_STATUS_GTT_ERROR : 0);
	case MVGPU_REG_IRQ_STATUS:
		return mg->irq_status;
	case MVGPU_REG_IRQ_ENABLE:
		return mg->irq_enable;
	case MVGPU_REG_DOORBELLS:
		return mg->doorbells;
	case MVGPU_REG_GTT_BASE_LO:
		return lower_32_bits(mg->gtt_base);
	case MVGPU_REG_GTT_BASE_HI:
		return upper_32_bits(mg->gtt_base);
	case MVGPU_REG_GTT_ENTRIES:
		return mg->gtt_entries;
	case MVGPU_REG_GTT_WRITES:
		return mg->gtt_writes;
	}
	return 0;
}

static void mvgpu_reg_write(struct mvgpu *mg, unsigned int off, u32 val)
{
	lockdep_assert_held(&mg->lock);

	switch (off) {
	case MVGPU_REG_DOORBELL:
		mg->doorbells++;
		mvgpu_raise(mg, MVGPU_IRQ_DOORBELL);
		break;
	case MVGPU_REG_IRQ_STATUS:
		mg->irq_status &= ~val;
		break;
	case MVGPU_REG_IRQ_ENABLE:
		mg->irq_enable = val & (MVGPU_IRQ_DOORBELL |
					MVGPU_IRQ_GTT_WRITE);
		break;
	/* The table's registers are read-only while it is latched. */
	case MVGPU_REG_GTT_BASE_LO:
		if (!mvgpu_gtt_latched(mg))
			mg->gtt_base = (mg->gtt_base & GENMASK_ULL(63, 32)) |
				       val;
		break;
	case MVGPU_REG_GTT_BASE_HI:
		if (!mvgpu_gtt_latched(mg))
			mg->gtt_base = (mg->gtt_base & GENMASK_ULL(31, 0)) |
				       (u64)val << 32;
		break;
	case MVGPU_REG_GTT_ENTRIES:
		if (!mvgpu_gtt_latched(mg))
			mg->gtt_entries = val;
		break;
	case MVGPU_REG_GTT_CTRL:
		/* LOAD is mvgpu_gtt_load(), called without mg->lock. */
		if (val == MVGPU_GTT_UNLOAD) {
			mvgpu_gtt_unload(mg);
			mg->gtt_error = false;
		}
		break;
	}
}

/*
 * The registers back to power-on state: the GTT is unloaded; the VM
 * stays pinned. For reset and close; BAR2 is theirs to clear or free.
 */
static void mvgpu_reset(struct mvgpu *mg)
{
	lockdep_assert_held(&mg->lock);

	mvgpu_gtt_unload(mg);
	mvgpu_irq_disable(mg);
	mvgpu_config_init(mg);
	mg->irq_status = 0;
	mg->irq_enable = 0;
	mg->doorbells = 0;
	mg->gtt_base = 0;
	mg->gtt_entries = 0;
	mg->gtt_writes = 0;
	mg->gtt_error = false;
	mg->track_notified = 0;
}

/* VFIO_DEVICE_RESET: the registers, and BAR2 zeroed. */
static int mvgpu_device_reset(struct mvgpu *mg)
{
	if (mutex_lock_interruptible(&mg->aperture_lock))
		return -ERESTARTSYS;
	memset(mg->aperture, 0, (size_t)mg->type->aperture_mb << 20);
	mutex_unlock(&mg->aperture_lock);

	if (mutex_lock_interruptible(&mg->irq_lock))
		return -ERESTARTSYS;
	mutex_lock(&mg->lock);
	mvgpu_reset(mg);
	mutex_unlock(&mg->lock);
	mvgpu_intx_unmask_sync(mg);
	mutex_unlock(&mg->irq_lock);
	return 0;
}

/*
 * Config space or a BAR0 register, @len bytes to or from @buf, which
 * holds them as the device would: little-endian, whatever the CPU.
 */
static int mvgpu_reg_access(struct mvgpu *mg, unsigned int index, u64 off,
			    u8 *buf, unsigned int len, bool write)
{
	lockdep_assert_held(&mg->lock);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		if (off + len > MVGPU_CONFIG_SIZE)
			return -EINVAL;
		if (write)
			mvgpu_config_write(mg, off, mvgpu_get_le(buf, len),
					   len);
		else
			memcpy(buf, &mg->config[off], len);
		return 0;
	case VFIO_PCI_BAR0_REGION_INDEX:
		/* Registers are 32 bits wide. */
		if (len != 4 || off >= MVGPU_BAR0_SIZE)
			return -EINVAL;
		if (write)
			mvgpu_reg_write(mg, off, get_unaligned_le32(buf));
		else
			put_unaligned_le32(mvgpu_reg_read(mg, off), buf);
		return 0;
	}
	return -EINVAL;
}

/* One access of 1, 2 or 4 bytes to config space or BAR0, or any to BAR2. */
static ssize_t mvgpu_access(struct mvgpu *mg, char __user *ubuf, size_t count,
			    loff_t pos, bool write)
{
	unsigned int index = pos >> MVGPU_OFFSET_SHIFT;
	u64 off = pos & MVGPU_OFFSET_MASK;
	u64 size = (u64)mg->type->aperture_mb << 20;
	u8 buf[4];
	int ret;

	if (index == VFIO_PCI_BAR2_REGION_INDEX) {
		unsigned long left;

		if (off >= size || count > size - off)
			return -EINVAL;
		/*
		 * Ordered against the zeroing at reset; not under mg->lock,
		 * since the copy may fault on the user's memory and sleep.
		 */
		if (mutex_lock_interruptible(&mg->aperture_lock))
			return -ERESTARTSYS;
		left = write ? copy_from_user(mg->aperture + off, ubuf, count) :
			       copy_to_user(ubuf, mg->aperture + off, count);
		mutex_unlock(&mg->aperture_lock);
		return left ? -EFAULT : count;
	}

	if (count != 1 && count != 2 && count != 4)
		return -EINVAL;
	if (!IS_ALIGNED(off, count))
		return -EINVAL;
	/* Not under mg->lock: the copies may fault and sleep. */
	if (write && copy_from_user(buf, ubuf, count))
		return -EFAULT;

	/* LOAD sleeps on the DMA read: it takes mg->lock by itself. */
	if (write && index == VFIO_PCI_BAR0_REGION_INDEX &&
	    off == MVGPU_REG_GTT_CTRL && count == 4 &&
	    get_unaligned_le32(buf) == MVGPU_GTT_LOAD) {
		ret = mvgpu_gtt_load(mg);
		return ret ? ret : count;
	}

	scoped_guard(mutex, &mg->lock)
		ret = mvgpu_reg_access(mg, index, off, buf, count, write);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, buf, count))
		return -EFAULT;
	return count;
}

/* --- vfio_device_ops -------------------------------------------------- */

/* A vGPU without its VM is useless: the core refuses to open it. */
static const struct vfio_device_kvm_ops mvgpu_kvm_ops = {
	.required = true,
};

static int mvgpu_init_dev(struct vfio_device *vdev)
{
	struct mvgpu *mg = to_mvgpu(vdev);
	struct mdev_device *mdev = to_mdev_device(vdev->dev);
	int avail;

	mg->type = container_of(mdev->type, struct mvgpu_type, type);
	avail = atomic_read(&mvgpu_avail_mb);
	do {
		if (avail < mg->type->aperture_mb)
			return -ENOSPC;
	} while (!atomic_try_cmpxchg(&mvgpu_avail_mb, &avail,
				     avail - mg->type->aperture_mb));

	mutex_init(&mg->lock);
	mutex_init(&mg->aperture_lock);
	mutex_init(&mg->load_lock);
	mutex_init(&mg->irq_lock);
	INIT_LIST_HEAD(&mg->vm_node);
	mg->irq_index = -1;
	mvgpu_config_init(mg);
	mg->track_node.track_write = mvgpu_track_write;
	mg->track_node.track_remove_region = mvgpu_track_remove_region;
	vdev->kvm_ops = &mvgpu_kvm_ops;
	return 0;
}

static void mvgpu_release_dev(struct vfio_device *vdev)
{
	struct mvgpu *mg = to_mvgpu(vdev);

	mutex_destroy(&mg->load_lock);
	mutex_destroy(&mg->irq_lock);
	mutex_destroy(&mg->aperture_lock);
	mutex_destroy(&mg->lock);
	atomic_add(mg->type->aperture_mb, &mvgpu_avail_mb);
}

static int mvgpu_open_device(struct vfio_device *vdev)
{
	struct mvgpu *mg = to_mvgpu(vdev);
	struct mvgpu *other;
	int ret;

	/* Required kvm_ops: the core opens us only with a pinned VM. */
	lockdep_assert_held(&vdev->dev_set->lock);

	/*
	 * A new aperture for each open: pages of the last one may still be
	 * pinned by whoever had it (vmsplice(), io_uring, another device's
	 * DMA map), so they are never handed to the next VM.
	 */
	mg->aperture = vmalloc_user((size_t)mg->type->aperture_mb << 20);
	if (!mg->aperture)
		return -ENOMEM;

	mutex_lock(&mvgpu_vms_lock);
	list_for_each_entry(other, &mvgpu_vms, vm_node) {
		if (other->vdev.kvm == vdev->kvm) {
			mutex_unlock(&mvgpu_vms_lock);
			dev_warn_ratelimited(vdev->dev,
					     "the VM already has a vGPU\n");
			ret = -EEXIST;
			goto err_free_aperture;
		}
	}
	list_add(&mg->vm_node, &mvgpu_vms);
	mutex_unlock(&mvgpu_vms_lock);

	/* Takes a VM reference of its own, dropped at unregister. */
	ret = kvm_page_track_register_notifier(vdev->kvm, &mg->track_node);
	if (ret)
		goto err_leave_vm;
	/* The registers: init and the last close left them at power-on. */
	return 0;

err_leave_vm:
	mutex_lock(&mvgpu_vms_lock);
	list_del_init(&mg->vm_node);
	mutex_unlock(&mvgpu_vms_lock);
err_free_aperture:
	vfree(mg->aperture);
	mg->aperture = NULL;
	return ret;
}

static void mvgpu_close_device(struct vfio_device *vdev)
{
	struct mvgpu *mg = to_mvgpu(vdev);

	mutex_lock(&mg->irq_lock);
	mutex_lock(&mg->lock);
	mvgpu_reset(mg);
	mutex_unlock(&mg->lock);
	/* The unmask eventfd's work, if any, is done when this returns. */
	mvgpu_intx_unmask_sync(mg);
	mutex_unlock(&mg->irq_lock);

	/*
	 * Not under mg->lock: unregistering waits for running notifiers,
	 * which take it. The notifier's VM reference goes here, under
	 * dev_set->lock, and is never the last: the core drops the device's
	 * own pin, the VM's file, after close_device(), and the VM's
	 * release, if that was its last reference, runs later, outside
	 * every VFIO lock.
	 */
	kvm_page_track_unregister_notifier(vdev->kvm, &mg->track_node);

	mutex_lock(&mvgpu_vms_lock);
	list_del_init(&mg->vm_node);
	mutex_unlock(&mvgpu_vms_lock);

	/*
	 * No fd is left to reach BAR2, and an mmap holds one: free it. Pages
	 * someone still pins stay theirs, and are not reused for the next
	 * open (see mvgpu_open_device()).
	 */
	vfree(mg->aperture);
	mg->aperture = NULL;
}

/*
 * Registers are accessed 4, 2 or 1 bytes at a time, naturally aligned; a
 * longer access is split, since a VMM reads config space in one go.
 */
static ssize_t mvgpu_rw(struct mvgpu *mg, char __user *buf,
			size_t count, loff_t pos, bool write)
{
	size_t done = 0, n;
	ssize_t ret;

	/* The aperture is plain memory: any size, any alignment. */
	if (pos >> MVGPU_OFFSET_SHIFT == VFIO_PCI_BAR2_REGION_INDEX)
		return mvgpu_access(mg, buf, count, pos, write);

	while (done < count) {
		n = count - done;
		if (n >= 4 && IS_ALIGNED(pos + done, 4))
			n = 4;
		else if (n >= 2 && IS_ALIGNED(pos + done, 2))
			n = 2;
		else
			n = 1;
		ret = mvgpu_access(mg, buf + done, n, pos + done, write);
		if (ret < 0)
			return done ? done : ret;
		done += n;
	}
	return done;
}

static ssize_t mvgpu_read(struct vfio_device *vdev, char __user *buf,
			  size_t count, loff_t *ppos)
{
	return mvgpu_rw(to_mvgpu(vdev), buf, count, *ppos, false);
}

static ssize_t mvgpu_write(struct vfio_device *vdev, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	return mvgpu_rw(to_mvgpu(vdev), (char __user *)buf, count, *ppos,
			true);
}

static int mvgpu_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	struct mvgpu *mg = to_mvgpu(vdev);
	u64 size = (u64)mg->type->aperture_mb << 20;
	u64 pgoff = vma->vm_pgoff &
		    ((1ULL << (MVGPU_OFFSET_SHIFT - PAGE_SHIFT)) - 1);

	if (vma->vm_pgoff >> (MVGPU_OFFSET_SHIFT - PAGE_SHIFT) !=
	    VFIO_PCI_BAR2_REGION_INDEX)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (pgoff >= size >> PAGE_SHIFT ||
	    vma_pages(vma) > (size >> PAGE_SHIFT) - pgoff)
		return -EINVAL;
	return remap_vmalloc_range(vma, mg->aperture, pgoff);
}

static int mvgpu_region_info(struct mvgpu *mg, struct vfio_region_info *info)
{
	info->offset = MVGPU_INDEX_TO_OFFSET(info->index);
	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	switch (info->index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info->size = MVGPU_CONFIG_SIZE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX:
		info->size = MVGPU_BAR0_SIZE;
		break;
	case VFIO_PCI_BAR2_REGION_INDEX:
		info->size = (u64)mg->type->aperture_mb << 20;
		info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
		break;
	default:
		if (info->index >= VFIO_PCI_NUM_REGIONS)
			return -EINVAL;
		info->size = 0;
		info->flags = 0;
		break;
	}
	return 0;
}

static long mvgpu_ioctl(struct vfio_device *vdev, unsigned int cmd,
			unsigned long arg)
{
	struct mvgpu *mg = to_mvgpu(vdev);
	void __user *uarg = (void __user *)arg;
	unsigned long minsz;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;

		minsz = offsetofend(struct vfio_device_info, num_irqs);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		info.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;
		int ret;

		minsz = offsetofend(struct vfio_region_info, offset);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		ret = mvgpu_region_info(mg, &info);
		if (ret)
			return ret;
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;

		minsz = offsetofend(struct vfio_irq_info, count);
		if (copy_from_user(&info, uarg, minsz))
			return -EFAULT;
		/*
		 * INTx, MSI and MSI-X. Conventional PCI: like vfio-pci for
		 * such a device, no error (AER) and no request interrupt,
		 * so that a VMM does not try them.
		 */
		if (info.argsz < minsz || info.index > VFIO_PCI_MSIX_IRQ_INDEX)
			return -EINVAL;
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = 0;
		if (info.index == VFIO_PCI_INTX_IRQ_INDEX) {
			info.flags |= VFIO_IRQ_INFO_MASKABLE |
				      VFIO_IRQ_INFO_AUTOMASKED;
			info.count = 1;
		} else if (info.index == VFIO_PCI_MSI_IRQ_INDEX) {
			info.flags |= VFIO_IRQ_INFO_NORESIZE;
			info.count = 1;
		}
		return copy_to_user(uarg, &info, minsz) ? -EFAULT : 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set hdr;
		size_t data_size;
		int ret;

		minsz = offsetofend(struct vfio_irq_set, count);
		if (copy_from_user(&hdr, uarg, minsz))
			return -EFAULT;
		if (hdr.index != VFIO_PCI_INTX_IRQ_INDEX &&
		    hdr.index != VFIO_PCI_MSI_IRQ_INDEX)
			return -EINVAL;
		ret = vfio_set_irqs_validate_and_prepare(&hdr, 1,
							 VFIO_PCI_NUM_IRQS,
							 &data_size);
		if (ret)
			return ret;
		return mvgpu_set_irqs(mg, &hdr, uarg + minsz);
	}
	case VFIO_DEVICE_RESET:
		return mvgpu_device_reset(mg);
	}
	return -ENOTTY;
}

static const struct vfio_device_ops mvgpu_dev_ops = {
	.name = MVGPU_NAME,
	.init = mvgpu_init_dev,
	.release = mvgpu_release_dev,
	.open_device = mvgpu_open_device,
	.close_device = mvgpu_close_device,
	.read = mvgpu_read,
	.write = mvgpu_write,
	.mmap = mvgpu_mmap,
	.ioctl = mvgpu_ioctl,
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

/* --- mdev driver ------------------------------------------------------ */

/* The loaded table and the pages it protects, for the tests. */
static int mvgpu_gtt_show(struct seq_file *m, void *unused)
{
	struct mvgpu *mg = m->private;
	unsigned int i;

	guard(mutex)(&mg->lock);
	seq_printf(m, "loaded %d base %#llx entries %u notified %u tracked",
		   mvgpu_gtt_loaded(mg), mg->gtt.base, mg->gtt.entries,
		   mg->track_notified);
	if (!mg->gtt.tracked)
		seq_puts(m, " none");
	for_each_set_bit(i, &mg->gtt.tracked, MVGPU_GTT_MAX_PAGES)
		seq_printf(m, " %#llx", (u64)mg->gtt.gfn[i]);
	seq_putc(m, '\n');
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mvgpu_gtt);

static int mvgpu_probe(struct mdev_device *mdev)
{
	struct mvgpu *mg;
	int ret;

	mg = vfio_alloc_device(mvgpu, vdev, &mdev->dev, &mvgpu_dev_ops);
	if (IS_ERR(mg))
		return PTR_ERR(mg);

	ret = vfio_register_emulated_iommu_dev(&mg->vdev);
	if (ret)
		goto err_put_vdev;
	dev_set_drvdata(&mdev->dev, mg);
	mg->debugfs = debugfs_create_dir(dev_name(&mdev->dev),
					 mvgpu_parent.debugfs);
	debugfs_create_file("gtt", 0400, mg->debugfs, mg, &mvgpu_gtt_fops);
	return 0;

err_put_vdev:
	vfio_put_device(&mg->vdev);
	return ret;
}

static void mvgpu_remove(struct mdev_device *mdev)
{
	struct mvgpu *mg = dev_get_drvdata(&mdev->dev);

	/* Waits for readers: none left once it returns. */
	debugfs_remove_recursive(mg->debugfs);
	vfio_unregister_group_dev(&mg->vdev);
	vfio_put_device(&mg->vdev);
}

static unsigned int mvgpu_get_available(struct mdev_type *mtype)
{
	struct mvgpu_type *type = container_of(mtype, struct mvgpu_type, type);

	return atomic_read(&mvgpu_avail_mb) / type->aperture_mb;
}

static ssize_t mvgpu_show_description(struct mdev_type *mtype, char *buf)
{
	struct mvgpu_type *type = container_of(mtype, struct mvgpu_type, type);

	return sprintf(buf, "aperture %u MiB, GTT %u entries, one per VM\n",
		       type->aperture_mb, type->gtt_entries);
}

/*
 * The VM the vGPU is open in, for the admin: KVM's stats id of the VM,
 * "kvm-<pid of the VMM>", or "none". A vGPU is on mvgpu_vms exactly while
 * it is open, and the core's pin keeps vdev.kvm valid until after
 * close_device() has taken it off.
 */
static ssize_t vm_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	struct mvgpu *mg = dev_get_drvdata(dev);

	guard(mutex)(&mvgpu_vms_lock);
	if (list_empty(&mg->vm_node))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s\n", mg->vdev.kvm->stats_id);
}

/* It names the VMM's pid: for root only. */
static DEVICE_ATTR_ADMIN_RO(vm);

static struct attribute *mvgpu_attrs[] = {
	&dev_attr_vm.attr,
	NULL,
};
ATTRIBUTE_GROUPS(mvgpu);

static struct mdev_driver mvgpu_driver = {
	.device_api = VFIO_DEVICE_API_PCI_STRING,
	.driver = {
		.name = MVGPU_NAME,
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
		.dev_groups = mvgpu_groups,
	},
	.probe = mvgpu_probe,
	.remove = mvgpu_remove,
	.get_available = mvgpu_get_available,
	.show_description = mvgpu_show_description,
};

static void mvgpu_parent_release(struct device *dev)
{
}

static int __init mvgpu_init(void)
{
	int ret;

	atomic_set(&mvgpu_avail_mb, aperture_mb);
	mvgpu_parent.debugfs = debugfs_create_dir(MVGPU_NAME, NULL);
	ret = mdev_register_driver(&mvgpu_driver);
	if (ret)
		goto err_remove_debugfs;

	mvgpu_parent.class = class_create(MVGPU_NAME);
	if (IS_ERR(mvgpu_parent.class)) {
		ret = PTR_ERR(mvgpu_parent.class);
		goto err_unregister_driver;
	}
	mvgpu_parent.dev.class = mvgpu_parent.class;
	mvgpu_parent.dev.release = mvgpu_parent_release;
	dev_set_name(&mvgpu_parent.dev, "%s", MVGPU_NAME);
	ret = device_register(&mvgpu_parent.dev);
	if (ret)
		goto err_put_dev;

	ret = mdev_register_parent(&mvgpu_parent.parent, &mvgpu_parent.dev,
				   &mvgpu_driver, mvgpu_mdev_types,
				   ARRAY_SIZE(mvgpu_mdev_types));
	if (ret)
		goto err_unregister_dev;
	return 0;

err_unregister_dev:
	device_unregister(&mvgpu_parent.dev);
	goto err_destroy_class;
err_put_dev:
	put_device(&mvgpu_parent.dev);
err_destroy_class:
	class_destroy(mvgpu_parent.class);
err_unregister_driver:
	mdev_unregister_driver(&mvgpu_driver);
err_remove_debugfs:
	debugfs_remove_recursive(mvgpu_parent.debugfs);
	return ret;
}

static void __exit mvgpu_exit(void)
{
	mdev_unregister_parent(&mvgpu_parent.parent);
	device_unregister(&mvgpu_parent.dev);
	class_destroy(mvgpu_parent.class);
	mdev_unregister_driver(&mvgpu_driver);
	debugfs_remove_recursive(mvgpu_parent.debugfs);
}

module_init(mvgpu_init);
module_exit(mvgpu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample mediated vGPU that requires KVM (like GVT-g)");
