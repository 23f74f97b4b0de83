#!/usr/bin/env bash
# image/uki.sh STUB DIR OUT — a UKI from systemd-stub and DIR/{os-release,cmdline.txt,vmlinuz,initrd.img}: each
# section added after the stub's last one, page-aligned (the systemd-stub objcopy recipe); then the COFF
# TimeDateStamp, which Authenticode (PCR 4) covers and objcopy sets to the current time, is pinned to
# SOURCE_DATE_EPOCH and the optional-header CheckSum recomputed.
set -euo pipefail
STUB=$1 D=$2 OUT=$3
next=0
while read -r idx _ size vma _; do  # objdump -h rows: Idx Name Size VMA LMA File-off Algn
  [[ $idx =~ ^[0-9]+$ ]] && (( 0x$vma + 0x$size > next )) && next=$(( 0x$vma + 0x$size ))
done < <(objdump -h "$STUB")
[[ $next -gt 0 ]] || { echo "uki.sh: cannot read the stub's section table" >&2; exit 1; }
args=()
for s in osrel:os-release cmdline:cmdline.txt linux:vmlinuz initrd:initrd.img; do
  next=$(( (next + 0xfff) & ~0xfff ))
  args+=(--add-section ".${s%%:*}=$D/${s#*:}" --change-section-vma ".${s%%:*}=$(printf '0x%x' "$next")")
  next=$(( next + $(stat -c %s "$D/${s#*:}") ))
done
objcopy "${args[@]}" "$STUB" "$OUT"
node --input-type=module - "$OUT" "${SOURCE_DATE_EPOCH:?}" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
const [file, epoch] = process.argv.slice(2);
const b = readFileSync(file);
const pe = b.readUInt32LE(0x3c);
b.writeUInt32LE(Number(epoch), pe + 8);
const ck = pe + 24 + 64;
b.writeUInt32LE(0, ck);
let s = 0;
for (let i = 0; i + 1 < b.length; i += 2) { s += b.readUInt16LE(i); s = (s & 0xffff) + (s >>> 16); }
if (b.length % 2) { s += b[b.length - 1]; s = (s & 0xffff) + (s >>> 16); }
b.writeUInt32LE((s & 0xffff) + b.length, ck);
writeFileSync(file, b);
JS
