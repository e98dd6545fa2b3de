#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The make run demo, in the test guest (busybox sh): what the KVM pin is,
# shown with the real tools. One device of each sample with mdevctl, the
# host's QEMU with KVM on the gvt-like one, the VM it pins and its release,
# a guest in that VM driving the vGPU (selftests/payload/), and the same
# device refused without KVM. Each step says what it shows.
# Ends with "mdev-kvm: demo: done", or "mdev-kvm: demo: FAILED: <step>".

HOST=/host
MVGPU=5e6b0000-0000-4000-8000-00000000d001
MZDEV=5e6b0000-0000-4000-8000-00000000d002
MCOUNTER=5e6b0000-0000-4000-8000-00000000d003
FIFO=/tmp/demo-monitor
QLOG=/tmp/demo-qemu.log

step() {
	echo
	echo "== $*"
}

say() {
	echo "   $*"
}

fail() {
	dmesg -n 7
	echo "mdev-kvm: demo: FAILED: $*"
	exit 1
}

host() {
	chroot $HOST "$@"
}

# Waits up to $2 seconds for $1 to appear in QEMU's output.
qemu_wait() {
	i=0
	while ! grep -q "$1" $QLOG 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
}

# KVM's VMs by their debugfs names, "<pid>-<VM fd>", or "none".
vms() {
	v=$(ls /sys/kernel/debug/kvm | grep -- - | tr '\n' ' ')
	echo "${v:-none}"
}

[ -x $HOST/usr/bin/mdevctl ] || fail "the host root is not at $HOST"

step "1. The samples are loaded; mdevctl lists their types"
say "mvgpu    a gvt-like vGPU: requires KVM (vfio_device_kvm_ops, required)"
say "mzdev    a zdev-like function: uses KVM when there is a VM (optional)"
say "mcounter a control device: no KVM at all (no kvm_ops)"
host mdevctl types | grep -E '^[a-z]|^  [a-z]|Description' ||
	fail "mdevctl types"

step "2. One device of each, created with mdevctl"
host mdevctl start -u $MVGPU -p mvgpu -t mvgpu-small || fail "start mvgpu"
host mdevctl start -u $MZDEV -p mzdev -t mzdev-c4 || fail "start mzdev"
host mdevctl start -u $MCOUNTER -p mcounter -t mcounter-1 ||
	fail "start mcounter"
host mdevctl list

step "3. QEMU starts a VM with KVM and the vGPU (-device vfio-pci)"
say "QEMU creates the VM and its kvm-vfio device, adds the vGPU's group,"
say "then opens the device: the VFIO core pins the VM for the driver."
rm -f $FIFO $QLOG
mkfifo $FIFO
# chroot execs QEMU: $! is QEMU's pid.
chroot $HOST qemu-system-x86_64 -accel kvm -cpu max -m 64 -nodefaults \
	-display none -S -monitor stdio \
	-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MVGPU \
	<$FIFO >$QLOG 2>&1 &
QEMU=$!
exec 3>$FIFO
qemu_wait "(qemu)" 120 || { cat $QLOG; fail "QEMU did not start"; }
echo "info pci" >&3
qemu_wait "1b36:10f0" 60 || { cat $QLOG; fail "no vGPU in QEMU"; }
say "QEMU (pid $QEMU) sees the vGPU:"
grep -B1 "1b36:10f0" $QLOG | sed 's/^/     /'

step "4. The pin, while QEMU runs"
say "the VMs KVM has:           $(vms)"
say "the vGPU's vm attribute:   $(cat /sys/bus/mdev/devices/$MVGPU/vm)" \
	"(KVM's stats id: kvm-<pid of the VMM>)"
[ "$(cat /sys/bus/mdev/devices/$MVGPU/vm)" = "kvm-$QEMU" ] ||
	fail "the vGPU does not name QEMU's VM"
if rmmod mvgpu 2>/dev/null; then
	fail "mvgpu unloaded with its vGPU open"
fi
say "rmmod mvgpu is refused: QEMU has the vGPU open"

step "5. QEMU quits: the last close of the vGPU unpins, the VM is destroyed"
echo "quit" >&3
exec 3>&-
wait $QEMU
say "the VMs KVM has:           $(vms)"
say "the vGPU's vm attribute:   $(cat /sys/bus/mdev/devices/$MVGPU/vm)"
[ "$(cat /sys/bus/mdev/devices/$MVGPU/vm)" = none ] ||
	fail "the vGPU still names a VM"
[ "$(vms)" = none ] || fail "a VM outlived QEMU"

step "6. A guest drives the vGPU: QEMU with KVM boots a small program"
say "(selftests/payload/) that finds the vGPU in PCI config space, loads a"
say "GTT from its own memory (the device reads it as DMA), stores to it"
say "(KVM write-protects the page and tells the device) and takes the MSI."
cp /kselftest/vfio/payload.elf /tmp/demo-payload.elf || fail "no payload"
rm -f /tmp/demo-guest.txt
host timeout 300 qemu-system-x86_64 -accel kvm -cpu max -m 64 -nodefaults \
	-display none -no-reboot -kernel /tmp/demo-payload.elf \
	-debugcon file:/tmp/demo-guest.txt \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MVGPU \
	</dev/null >$QLOG 2>&1
rc=$?
say "what the guest printed on QEMU's debug console:"
sed 's/^/     /' /tmp/demo-guest.txt
# isa-debug-exit: exit status 65 when every check passed.
[ $rc = 65 ] && grep -q "payload: ok" /tmp/demo-guest.txt ||
	{ cat $QLOG; fail "the guest's checks (QEMU exit $rc)"; }
say "the VMs KVM has:           $(vms)"
[ "$(vms)" = none ] || fail "a VM outlived QEMU"

step "7. Without KVM (-accel tcg) there is no VM to pin: the open is refused"
host timeout 120 qemu-system-x86_64 -accel tcg -m 64 -nodefaults \
	-display none -S -device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MVGPU \
	</dev/null >$QLOG 2>&1 && fail "QEMU accepted the vGPU without KVM"
grep -q "Invalid argument" $QLOG || { cat $QLOG; fail "not the core's EINVAL"; }
sed 's/^/     /' $QLOG
say "and the kernel says why, naming the device:"
dmesg | grep "$MVGPU: vfio: the device requires KVM" | tail -n 1 |
	sed 's/^/     /' | grep . || fail "no log line naming the device"

step "8. The control device needs no KVM: it opens under TCG too"
rm -f $FIFO $QLOG
mkfifo $FIFO
chroot $HOST qemu-system-x86_64 -accel tcg -m 64 -nodefaults -display none \
	-S -monitor stdio \
	-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/$MCOUNTER \
	<$FIFO >$QLOG 2>&1 &
QEMU=$!
exec 3>$FIFO
echo "info pci" >&3
qemu_wait "1b36:10f2" 120 || { cat $QLOG; fail "no mcounter in QEMU"; }
echo "quit" >&3
exec 3>&-
wait $QEMU
say "QEMU realized mcounter (1b36:10f2) with no VM at all"

step "9. mdevctl stops the devices"
for u in $MVGPU $MZDEV $MCOUNTER; do
	host mdevctl stop -u $u || fail "stop $u"
done
host mdevctl list
dmesg -n 7
echo
echo "mdev-kvm: demo: done"
