#!/bin/sh
# Records a real virtio-blk request-path log from a QEMU system-emulation guest
# (TCG, no KVM). NOT run by CI or the tests: the fixture it made,
# tests/data/traces/qemu/virtio_blk_real.log, is committed. Needs Debian 12's
#   apt-get install qemu-system-x86 linux-image-amd64 busybox-static cpio
# Usage: capture_qemu_guest.sh [WORKDIR] [AIO]   (AIO: io_uring (default) or native)
# Writes WORKDIR/qemu-trace-$AIO.log (the whole log), WORKDIR/console-$AIO.txt and
# WORKDIR/excerpt-$AIO.log: 400 lines from the start of the guest's dd phase.
set -eu
W=${1:-/tmp/qemu-capture}
AIO=${2:-io_uring}
NIOS=${NIOS:-200}          # I/Os per disk issued by the guest
KVER=$(ls /lib/modules | sort -V | tail -n 1)
KERNEL=/boot/vmlinuz-$KVER
mkdir -p "$W"
cd "$W"

# --- initramfs: busybox-static + the virtio modules, nothing else -------------
rm -rf root && mkdir -p root/bin root/dev root/proc root/sys root/lib/modules
cp /bin/busybox root/bin/busybox
for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev \
         virtio/virtio_pci block/virtio_blk; do
    f=$(ls /lib/modules/$KVER/kernel/drivers/$m.ko* 2>/dev/null | head -n 1)
    [ -n "$f" ] || continue
    case $f in
        *.xz) xz -dc "$f" > root/lib/modules/$(basename "$m").ko ;;
        *.zst) zstd -qdc "$f" > root/lib/modules/$(basename "$m").ko ;;
        *) cp "$f" root/lib/modules/$(basename "$m").ko ;;
    esac
done
cat > root/init <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
    [ -f /lib/modules/\$m.ko ] && insmod /lib/modules/\$m.ko
done
sleep 1
ls -l /dev/vd*
# One loop per disk, both at once: 4 KiB O_DIRECT reads and writes (30 % writes)
# at pseudo-random 4 KiB-aligned offsets in the first 64 MiB.
io() {
    awk -v n=$NIOS -v seed=\$2 'BEGIN { srand(seed); for (i = 0; i < n; i++) print (rand() < 0.3 ? "w" : "r"), int(rand() * 16384) }' |
    while read op blk; do
        if [ \$op = w ]; then dd if=/dev/zero of=\$1 bs=4096 count=1 seek=\$blk oflag=direct conv=notrunc 2>/dev/null
        else dd if=\$1 of=/dev/null bs=4096 count=1 skip=\$blk iflag=direct 2>/dev/null; fi
    done
}
io /dev/vda 42 &
io /dev/vdb 43 &
wait
echo GUEST-IO-DONE
poweroff -f
INIT
chmod +x root/init
(cd root && find . | cpio -o -H newc --quiet | gzip -1) > initramfs.cpio.gz

# --- disks: 64 MiB raw files ----------------------------------------------------
for d in d0 d1; do [ -f $d.img ] || dd if=/dev/zero of=$d.img bs=1M count=64 status=none; done

# --- run ------------------------------------------------------------------------
rm -f qemu-trace-$AIO.log
qemu-system-x86_64 -machine q35 -accel tcg -m 512 -nographic -no-reboot \
    -kernel "$KERNEL" -initrd initramfs.cpio.gz -append "console=ttyS0 quiet" \
    -msg timestamp=on -trace 'virtio_blk_*' -trace 'luring_*' -trace 'laio_*' -D qemu-trace-$AIO.log \
    -object iothread,id=io0 \
    -drive file=d0.img,if=none,id=d0,format=raw,cache=none,aio=$AIO \
    -device virtio-blk-pci,drive=d0,iothread=io0 \
    -drive file=d1.img,if=none,id=d1,format=raw,cache=none,aio=$AIO \
    -device virtio-blk-pci,drive=d1,iothread=io0 \
    > console-$AIO.txt 2>&1 </dev/null
grep -c . qemu-trace-$AIO.log

# --- excerpt ---------------------------------------------------------------------
# The log starts with SeaBIOS's MBR reads (sector 0, nsectors 1), a boot gap of
# seconds, the kernel's partition scan (sectors 0, 8, 24) and a gap of ~1 s.
# The dd phase starts at the line before its first request (the luring_io_plug
# in front of the first virtio_blk_handle_* at sector >= 64).
start=$(awk '/:virtio_blk_handle_(read|write) / { for (i = 1; i < NF; i++) if ($i == "sector" && $(i + 1) >= 64) { print NR - 1; exit } }' qemu-trace-$AIO.log)
tail -n +"$start" qemu-trace-$AIO.log | head -n 400 > excerpt-$AIO.log
echo "excerpt-$AIO.log: lines $start..$((start + 399)) of qemu-trace-$AIO.log"
