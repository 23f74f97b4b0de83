# shellcheck shell=bash
# Shared helpers for testvectors/gen-quote.sh: logging, hex/byte manipulation, timing.
# Binary edits go through `xxd -p` hex strings so every mutation is a visible, exact byte operation.

# Print a timestamped message on stderr.
say() { printf '[gen-quote %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Abort with a message (the EXIT trap stops swtpm and removes the work dir).
fail() { say "FATAL: $*"; exit 1; }

# Lower-case hex of a whole file, one line.
hex_of() { xxd -p -c 100000 "$1" | tr -d '\n'; }
# Write hex string $1 as raw bytes to file $2.
hex_to_file() { printf '%s' "$1" | xxd -r -p > "$2"; }
# sha256 of a file, hex.
sha256_of() { local o; o=$(sha256sum "$1"); echo "${o%% *}"; }
# sha256 of a hex string's bytes, hex.
sha256_hex() { local o; o=$(printf '%s' "$1" | xxd -r -p | sha256sum); echo "${o%% *}"; }
# Size in bytes of a file.
size_of() { stat -c %s "$1"; }

# Copy SRC to DST with bit BIT (0 = least significant) of byte OFFSET inverted.
flip_bit() {
  local src=$1 dst=$2 off=$3 bit=$4 hex byte
  hex=$(hex_of "$src")
  (( off >= 0 && off < ${#hex} / 2 )) || fail "flip_bit: offset $off outside $src"
  byte=$(( 16#${hex:off*2:2} ^ (1 << bit) ))
  hex_to_file "${hex:0:off*2}$(printf '%02x' "$byte")${hex:off*2+2}" "$dst"
}

# Copy SRC to DST with the bytes at OFFSET replaced by hex string NEWHEX (same length).
patch_bytes() {
  local src=$1 dst=$2 off=$3 new=$4 hex
  hex=$(hex_of "$src")
  (( off * 2 + ${#new} <= ${#hex} )) || fail "patch_bytes: range outside $src"
  hex_to_file "${hex:0:off*2}${new}${hex:off*2+${#new}}" "$dst"
}

# Read the big-endian u16 at byte OFFSET of FILE (decimal).
u16_at() { local hex; hex=$(hex_of "$1"); echo $(( 16#${hex:$2*2:4} )); }

# Milliseconds since the epoch (for timing).
now_ms() { date +%s%3N; }
