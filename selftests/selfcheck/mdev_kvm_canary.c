// SPDX-License-Identifier: GPL-2.0
/*
 * A module that produces, on request, each kind of kernel report the test
 * runner must turn into a failed run: make check SELFCHECK=warn|leak|
 * lockdep|kasan loads it with mode=<that>. Never loaded otherwise.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static char *mode = "none";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "report to produce: none, warn, leak, lockdep, kasan");

static DEFINE_MUTEX(canary_a);
static DEFINE_MUTEX(canary_b);
static void *canary_leak;

static void canary_lock_order_inversion(void)
{
	mutex_lock(&canary_a);
	mutex_lock(&canary_b);
	mutex_unlock(&canary_b);
	mutex_unlock(&canary_a);

	mutex_lock(&canary_b);
	mutex_lock(&canary_a);
	mutex_unlock(&canary_a);
	mutex_unlock(&canary_b);
}

/* Not a constant, so the compiler cannot see the overflow coming. */
static int canary_index = 16;

static noinline void canary_out_of_bounds(void)
{
	char *p = kmalloc(16, GFP_KERNEL);

	if (p)
		p[canary_index] = 1;
	kfree(p);
}

static int __init canary_init(void)
{
	if (!strcmp(mode, "warn")) {
		WARN(1, "mdev_kvm_canary: WARN on request\n");
	} else if (!strcmp(mode, "leak")) {
		/* Drop the only reference on purpose. */
		canary_leak = kmalloc(128, GFP_KERNEL);
		canary_leak = NULL;
	} else if (!strcmp(mode, "lockdep")) {
		canary_lock_order_inversion();
	} else if (!strcmp(mode, "kasan")) {
		canary_out_of_bounds();
	}
	return 0;
}

static void __exit canary_exit(void)
{
}

module_init(canary_init);
module_exit(canary_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mdev-kvm runner self-check: kernel reports on request");
