#!/usr/bin/env bash
# image/build.sh OUT [CACHE]   (aicert image build --out OUT runs this, then writes the golden values)
#
# Builds the aicert runner image, bit for bit reproducibly, from the pinned Debian packages of image/packages.lock
# and this repository's sources (spec/runner-image.md):
#   OUT/uki.efi    systemd-stub + Debian kernel + initramfs (busybox, node, the bundled runner and trainer,
#                  tpm2-tools, bubblewrap, nft + the network policy, openssl, kernel modules) + the command line
#   OUT/disk.raw   GPT disk (fixed GUIDs) whose FAT ESP holds the UKI as \EFI\BOOT\BOOTX64.EFI
#   OUT/disk.vhd   the same disk as a fixed-size VHD (qemu-img convert -O vpc; footer time/UUID pinned)
#   OUT/build.json what went in: package versions, input digests, trainer image id (read by the TypeScript side)
# Knobs: SOURCE_DATE_EPOCH (default 1700000000), AICERT_IMAGE_FIREWALL (another nft file, e.g. to test that a
# one-byte change of the network policy changes the golden values), AICERT_IMAGE_UNPINNED=1 (accept host package
# versions other than the lock's; recorded in build.json).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=$(realpath -m "${1:?usage: build.sh OUT [CACHE]}")
CACHE=$(realpath -m "${2:-$HERE/.cache}")
FIREWALL=${AICERT_IMAGE_FIREWALL:-$HERE/firewall.nft}
CMDLINE="console=ttyS0 loglevel=1 panic=-1 rdinit=/init"
DISK_MIB=256
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000} LC_ALL=C TZ=UTC
say() { printf '[image %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
for t in apt-get dpkg-deb dpkg-query objcopy objdump sgdisk mformat mcopy cpio gzip qemu-img node nft bwrap tpm2 openssl; do
  command -v "$t" > /dev/null || die "missing tool: $t (see .ci/apt-packages)"
done
mkdir -p "$OUT" "$CACHE/debs"
W=$(mktemp -d "$CACHE/work.XXXXXX")
trap 'rm -rf "$W"' EXIT

# 1. Pinned packages: fetched ones by version and digest, host ones by installed version.
UNPINNED=()
while read -r pkg ver how sum; do
  [[ -z $pkg || $pkg == \#* ]] && continue
  if [[ $how == fetch ]]; then
    deb=$CACHE/debs/${pkg}_${ver#*:}_amd64.deb
    if [[ ! -f $deb ]]; then
      say "apt-get download $pkg=$ver"
      (cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" > /dev/null 2> "$W/apt.log") || die "apt-get download $pkg=$ver failed: $(tail -2 "$W/apt.log")"
    fi
    [[ $(sha256sum < "$deb" | cut -d' ' -f1) == "$sum" ]] || die "$deb: sha256 differs from packages.lock"
  else
    have=$(dpkg-query -W -f '${Version}' "$pkg" 2> /dev/null || echo none)
    if [[ $have != "$ver" ]]; then
      [[ ${AICERT_IMAGE_UNPINNED:-0} == 1 ]] || die "$pkg $have is installed, packages.lock pins $ver (AICERT_IMAGE_UNPINNED=1 to build anyway)"
      UNPINNED+=("$pkg=$have")
    fi
  fi
done < "$HERE/packages.lock"
KPKG=$(awk '$1 ~ /^linux-image-/ {print $1 "_" $2}' "$HERE/packages.lock")
KVER=${KPKG%%_*}; KVER=${KVER#linux-image-}
SPKG=$(awk '$1 == "systemd-boot-efi" {print $1 "_" $2}' "$HERE/packages.lock")
KDEB=$CACHE/debs/${KPKG}_amd64.deb SDEB=$CACHE/debs/${SPKG}_amd64.deb

# 2. Kernel, kernel modules (the closure of what /init loads) and the stub, extracted from the .debs.
say "kernel $KVER"
X=$W/x; mkdir -p "$X/s"
# the extracted kernel tree is cached per .deb digest (extraction is the slow part; the .deb is checked above)
KX=$CACHE/kernel-$(sha256sum < "$KDEB" | cut -c1-16)
if [[ ! -f $KX/.done ]]; then
  rm -rf "$KX"; mkdir -p "$KX"
  dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$KX" "./boot/vmlinuz-$KVER" "./lib/modules/$KVER/kernel" "./lib/modules/$KVER/modules.builtin" "./lib/modules/$KVER/modules.order"
  touch "$KX/.done"
fi
ln -s "$KX" "$X/k"
dpkg-deb --fsys-tarfile "$SDEB" | tar -x -C "$X/s" ./usr/lib/systemd/boot/efi/linuxx64.efi.stub
STUB=$X/s/usr/lib/systemd/boot/efi/linuxx64.efi.stub
MODS=(virtio_pci virtio_net qemu_fw_cfg nf_tables nft_ct nft_reject_inet crc32c_generic)
R=$W/root; mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,run,srv,root,etc/aicert,etc/ssl,opt/aicert/trainer,lib/modules/$KVER}
KM=$X/k/lib/modules/$KVER
declare -A SEEN=()
addmod() {  # copies module $1 and, first, every module it depends on (modinfo "depends=" of the .ko)
  local f dep
  [[ -n ${SEEN[$1]:-} ]] && return 0
  SEEN[$1]=1
  f=$(find "$KM/kernel" -name "$1.ko" -o -name "${1//_/-}.ko" | head -1)
  [[ -n $f ]] || { grep -q "/$1.ko$" "$KM/modules.builtin" && return 0; die "kernel module $1 not found"; }
  for dep in $(strings "$f" | sed -n 's/^depends=//p' | tr ',' ' '); do addmod "$dep"; done
  mkdir -p "$R/lib/modules/$KVER/$(dirname "${f#"$KM/"}")"
  cp "$f" "$R/lib/modules/$KVER/${f#"$KM/"}"
}
for m in "${MODS[@]}"; do addmod "$m"; done
cp "$KM/modules.builtin" "$KM/modules.order" "$R/lib/modules/$KVER/"
printf '%s\n' "${MODS[@]}" > "$R/etc/aicert/modules"

# 3. Userland: busybox, node, tpm2-tools, bwrap, nft, openssl, each with the shared libraries it loads.
say "initramfs"
cp /bin/busybox "$R/bin/busybox"; ln -s busybox "$R/bin/sh"
for a in modprobe depmod poweroff; do ln -s ../bin/busybox "$R/sbin/$a"; done
cp /usr/bin/node /usr/bin/tpm2 /usr/bin/bwrap /usr/bin/openssl "$R/bin/"
cp /usr/sbin/nft "$R/sbin/nft"
for t in createek createak readpublic quote pcrread pcrextend evictcontrol flushcontext nvdefine nvread nvwrite startup; do
  ln -s tpm2 "$R/bin/tpm2_$t"
done
TCTI=$(readlink -f /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0)
mkdir -p "$R/usr/lib/x86_64-linux-gnu"
cp -L "$TCTI" "$R/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0"
for lib in $(ldd "$R/bin/node" "$R/bin/tpm2" "$R/bin/bwrap" "$R/bin/openssl" "$R/sbin/nft" "$TCTI" |
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*[^:]$/ {print $1}' | sort -u); do
  mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
done
cp /usr/lib/ssl/openssl.cnf "$R/etc/ssl/openssl.cnf"
busybox depmod -b "$R" "$KVER" 2> /dev/null || (cd "$R" && busybox depmod -b "$R" "$KVER")

# 4. Our files: /init, the network policy, the runner and the trainer (one bundled file each).
install -m 0755 "$HERE/init" "$R/init"
install -m 0755 "$HERE/udhcpc.script" "$R/etc/aicert/udhcpc.script"
install -m 0644 "$FIREWALL" "$R/etc/aicert/firewall.nft"
node "$HERE/bundle.mjs" "$W/bundle"
install -m 0644 "$W/bundle/runner.mjs" "$R/opt/aicert/runner.mjs"
install -m 0755 "$W/bundle/train.mjs" "$R/opt/aicert/trainer/train.mjs"
TRAINER_ID=sha256:$(sha256sum < "$W/bundle/train.mjs" | cut -d' ' -f1)
TRAINER_NAME=@local/aicert-trainer:tiny
# the trainer runs in bubblewrap when this runner has a sandbox (it shows /usr, /bin, /lib* and the trainer's folder)
SANDBOX=""
grep -q "'sandbox-ro'" "$ROOT/src/runner/cli-entry.ts" && SANDBOX=" --sandbox bwrap --sandbox-ro /opt/aicert/trainer"
printf -- '--image %s=%s%s\n' "$TRAINER_NAME" "$TRAINER_ID" "$SANDBOX" > "$R/etc/aicert/runner-args"
printf 'aicert-runner-image cpu %s\n' "$(sha256sum < "$FIREWALL" | cut -c1-16)" > "$R/etc/aicert/image-id"
printf 'ID=aicert-runner\nNAME="aicert runner image"\nVERSION_ID=1\nVARIANT_ID=cpu\n' > "$R/etc/os-release"

# 5. initramfs: sorted newc cpio, owners 0:0, every mtime SOURCE_DATE_EPOCH, gzip without name/time.
find "$R" -mindepth 1 -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$R" && find . -mindepth 1 -printf '%P\n' | sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -6 > "$W/initrd.img"
cp "$X/k/boot/vmlinuz-$KVER" "$W/vmlinuz"
cp "$R/etc/os-release" "$W/os-release"
printf '%s' "$CMDLINE" > "$W/cmdline.txt"

# 6. UKI (systemd-stub objcopy recipe), COFF timestamp pinned and checksum recomputed.
say "UKI"
bash "$HERE/uki.sh" "$STUB" "$W" "$OUT/uki.efi"
touch -d "@$SOURCE_DATE_EPOCH" "$OUT/uki.efi"  # mcopy -m copies this time into the FAT entry

# 7. Disk: GPT with fixed GUIDs, FAT ESP with a fixed serial; then the fixed VHD.
say "disk"
rm -f "$OUT/disk.raw"; truncate -s "${DISK_MIB}M" "$OUT/disk.raw"
sgdisk -U 00000000-A1CE-4000-8000-0000000000A1 -n 1:2048:0 -t 1:EF00 -c 1:ESP \
  -u 1:00000000-A1CE-4000-8000-0000000000A2 "$OUT/disk.raw" > /dev/null
export MTOOLS_SKIP_CHECK=1
mformat -i "$OUT/disk.raw@@1M" -F -N A1CE00A1 -v AICERT ::
mmd -i "$OUT/disk.raw@@1M" ::/EFI ::/EFI/BOOT
mcopy -m -i "$OUT/disk.raw@@1M" "$OUT/uki.efi" ::/EFI/BOOT/BOOTX64.EFI
rm -f "$OUT/disk.vhd"
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size "$OUT/disk.raw" "$OUT/disk.vhd"
node "$HERE/vhd-footer.mjs" "$OUT/disk.vhd" "$SOURCE_DATE_EPOCH"
touch -d "@$SOURCE_DATE_EPOCH" "$OUT/uki.efi" "$OUT/disk.raw" "$OUT/disk.vhd"

# 8. What went in (the TypeScript side adds the golden values and the manifest).
{
  printf '{\n  "source_date_epoch": %s,\n  "kernel_package": "%s",\n  "stub_package": "%s",\n' "$SOURCE_DATE_EPOCH" "$KPKG" "$SPKG"
  printf '  "cmdline": "%s",\n  "trainer": {"name": "%s", "id": "%s"},\n' "$CMDLINE" "$TRAINER_NAME" "$TRAINER_ID"
  printf '  "unpinned": [%s],\n  "packages": {' "$( ((${#UNPINNED[@]})) && printf '"%s",' "${UNPINNED[@]}" | sed 's/,$//')"
  sep=""
  while read -r pkg ver how _; do
    [[ -z $pkg || $pkg == \#* ]] && continue
    [[ $how == host ]] && ver=$(dpkg-query -W -f '${Version}' "$pkg")
    printf '%s"%s": "%s"' "$sep" "$pkg" "$ver"; sep=", "
  done < "$HERE/packages.lock"
  printf '},\n  "inputs": {'
  sep=""
  for f in vmlinuz initrd.img os-release cmdline.txt; do
    printf '%s"%s": "%s"' "$sep" "$f" "$(sha256sum < "$W/$f" | cut -d' ' -f1)"; sep=", "
  done
  printf ', "firewall.nft": "%s", "runner.mjs": "%s"},\n' "$(sha256sum < "$FIREWALL" | cut -d' ' -f1)" "$(sha256sum < "$W/bundle/runner.mjs" | cut -d' ' -f1)"
  printf '  "sizes": {"initrd.img": %d, "vmlinuz": %d}\n}\n' "$(stat -c %s "$W/initrd.img")" "$(stat -c %s "$W/vmlinuz")"
} > "$OUT/build.json"
say "built: uki $(du -h --apparent-size "$OUT/uki.efi" | cut -f1), disk ${DISK_MIB} MiB -> $OUT"
