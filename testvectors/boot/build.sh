#!/usr/bin/env bash
# testvectors/boot/build.sh CACHE_DIR
#
# Builds, reproducibly and from Debian packages only, the inputs of the project's measured boot:
#   CACHE_DIR/build/vmlinuz     Debian kernel (apt-get download linux-image-<ver>-amd64; never installed)
#   CACHE_DIR/build/initrd.img  busybox-static + guest-init + tpm2-tools with its libraries + qemu_fw_cfg.ko
#                               (cpio newc, owners 0:0, mtimes 0, sorted names, gzip -n)
#   CACHE_DIR/build/uki.efi     systemd-stub (systemd-boot-efi linuxx64.efi.stub) + .osrel .cmdline .linux .initrd
#   CACHE_DIR/build/esp.img     64 MiB GPT disk, fixed GUIDs, one FAT ESP holding \EFI\BOOT\BOOTX64.EFI
#   CACHE_DIR/build/build.json  package versions and sha256 of every output
# The build is skipped when build.json already records the same inputs (script, guest-init, packages).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$(realpath -m "${1:?usage: build.sh CACHE_DIR}")
B=$CACHE/build
DEBS=$CACHE/debs
CMDLINE="console=ttyS0 loglevel=1 panic=-1"
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C TZ=UTC
say() { printf '[build %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
mkdir -p "$B" "$DEBS"
# One build at a time per cache (the test suite may start the generator and a build concurrently).
exec 9> "$CACHE/.lock"
flock 9

# Resolve the exact package versions first: they key the cache.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
[[ -n $KPKG ]] || die "apt-cache cannot resolve linux-image-amd64 (run apt-get update)"
KVER=${KPKG#linux-image-}
KEY=$(cat "$HERE/build.sh" "$HERE/guest-init" | sha256sum | cut -c1-16)-$KPKG-$(apt-cache policy systemd-boot-efi | awk '/Candidate:/{print $2}')
if [[ -f $B/build.json && -f $B/esp.img ]] && grep -q "\"key\": \"$KEY\"" "$B/build.json"; then
  say "cached build ($KEY)"; exit 0
fi

# Download (not install) the kernel and the stub packages into the cache.
fetch() {
  local f
  f=$(find "$DEBS" -maxdepth 1 -name "${1}_*.deb" | head -1)
  if [[ -z $f ]]; then
    (cd "$DEBS" && apt-get download -q "$1" >/dev/null 2>"$DEBS/apt.log") || die "apt-get download $1 failed"
    f=$(find "$DEBS" -maxdepth 1 -name "${1}_*.deb" | head -1)
  fi
  printf '%s\n' "$f"
}
say "fetching $KPKG and systemd-boot-efi"
KDEB=$(fetch "$KPKG")
SDEB=$(fetch systemd-boot-efi)
X=$CACHE/extract; rm -rf "$X"; mkdir -p "$X/k" "$X/s"
FWCFG=lib/modules/$KVER/kernel/drivers/firmware/qemu_fw_cfg.ko
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$X/k" "./boot/vmlinuz-$KVER" "./$FWCFG"
dpkg-deb --fsys-tarfile "$SDEB" | tar -x -C "$X/s" ./usr/lib/systemd/boot/efi/linuxx64.efi.stub
STUB=$X/s/usr/lib/systemd/boot/efi/linuxx64.efi.stub
cp "$X/k/boot/vmlinuz-$KVER" "$B/vmlinuz"

# Initramfs tree: busybox, our /init, tpm2 (multi-call) with every shared library it loads.
say "initramfs"
R=$CACHE/root; rm -rf "$R"; mkdir -p "$R"/{bin,dev,proc,sys,tmp,mnt,lib/modules}
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
install -m 0755 "$HERE/guest-init" "$R/init"
cp "$X/k/$FWCFG" "$R/lib/modules/qemu_fw_cfg.ko"
cp /usr/bin/tpm2 "$R/bin/tpm2"
for t in createek createak readpublic quote pcrread; do ln -s tpm2 "$R/bin/tpm2_$t"; done
TCTI=$(readlink -f /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0)
add_libs() {  # copies the ELF files' dynamic dependencies (and the loader) to the same paths in $R
  local lib
  for lib in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*[^:]$/ {print $1}' | sort -u); do
    mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
  done
}
mkdir -p "$R/usr/lib/x86_64-linux-gnu"
cp -L "$TCTI" "$R/usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0"
add_libs /usr/bin/tpm2 "$TCTI"
find "$R" -mindepth 1 -exec touch -h -d @0 {} +
(cd "$R" && find . -mindepth 1 -printf '%P\n' | sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 > "$B/initrd.img"

# UKI: add the sections after the stub's last section, page-aligned (the systemd-stub objcopy recipe).
say "UKI"
printf 'ID=aicert-testvector\nNAME="aicert measured-boot test vector"\nVERSION_ID=1\n' > "$B/os-release"
printf '%s' "$CMDLINE" > "$B/cmdline.txt"
next=0
while read -r idx _ size vma _; do  # objdump -h rows: Idx Name Size VMA LMA File-off Algn
  [[ $idx =~ ^[0-9]+$ ]] && (( 0x$vma + 0x$size > next )) && next=$(( 0x$vma + 0x$size ))
done < <(objdump -h "$STUB")
[[ $next -gt 0 ]] || die "cannot read the stub's section table"
args=()
for s in osrel:os-release cmdline:cmdline.txt linux:vmlinuz initrd:initrd.img; do
  next=$(( (next + 0xfff) & ~0xfff ))
  args+=(--add-section ".${s%%:*}=$B/${s#*:}" --change-section-vma ".${s%%:*}=$(printf '0x%x' "$next")")
  next=$(( next + $(stat -c %s "$B/${s#*:}") ))
done
objcopy "${args[@]}" "$STUB" "$B/uki.efi"
# objcopy writes the current time into the COFF TimeDateStamp, which Authenticode (PCR 4) covers: pin it,
# then recompute the optional-header CheckSum (excluded from Authenticode, but part of the file bytes).
node --input-type=commonjs - "$B/uki.efi" "$SOURCE_DATE_EPOCH" <<'JS'
const fs = require('node:fs');
const [file, epoch] = process.argv.slice(2);
const b = fs.readFileSync(file);
const pe = b.readUInt32LE(0x3c);
b.writeUInt32LE(Number(epoch), pe + 8);
const ck = pe + 24 + 64;
b.writeUInt32LE(0, ck);
let s = 0;
for (let i = 0; i + 1 < b.length; i += 2) { s += b.readUInt16LE(i); s = (s & 0xffff) + (s >>> 16); }
if (b.length % 2) { s += b[b.length - 1]; s = (s & 0xffff) + (s >>> 16); }
b.writeUInt32LE((s & 0xffff) + b.length, ck);
fs.writeFileSync(file, b);
JS
touch -d "@$SOURCE_DATE_EPOCH" "$B/uki.efi"

# GPT disk with fixed disk/partition GUIDs (the EV_EFI_GPT_EVENT in PCR 5) and a FAT ESP with a fixed serial.
say "ESP disk"
rm -f "$B/esp.img"; truncate -s 64M "$B/esp.img"
sgdisk -U 00000000-A1CE-4000-8000-000000000001 -n 1:2048:0 -t 1:EF00 -c 1:ESP \
  -u 1:00000000-A1CE-4000-8000-000000000002 "$B/esp.img" > /dev/null
export MTOOLS_SKIP_CHECK=1
mformat -i "$B/esp.img@@1M" -F -N A1CE0001 -v AICERT ::
mmd -i "$B/esp.img@@1M" ::/EFI ::/EFI/BOOT
mcopy -m -i "$B/esp.img@@1M" "$B/uki.efi" ::/EFI/BOOT/BOOTX64.EFI

# Record what was built from what.
{
  printf '{\n  "key": "%s",\n  "kernel_package": "%s",\n  "stub_package": "%s",\n  "cmdline": "%s",\n  "files": {\n' \
    "$KEY" "$(basename "$KDEB")" "$(basename "$SDEB")" "$CMDLINE"
  sep=""
  for f in vmlinuz initrd.img os-release cmdline.txt uki.efi esp.img; do
    printf '%s    "%s": { "size": %d, "sha256": "%s" }' "$sep" "$f" "$(stat -c %s "$B/$f")" "$(sha256sum "$B/$f" | cut -d' ' -f1)"
    sep=$',\n'
  done
  printf '\n  }\n}\n'
} > "$B/build.json"
rm -rf "$X" "$R"
say "built $(du -h "$B/uki.efi" | cut -f1) UKI in $B"
