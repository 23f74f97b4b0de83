# shellcheck shell=bash
# Byte-level helpers for TPM 2.0 structures (TPM 2.0 Library Part 2, big-endian) and the tpm2-tools PCR file
# (little-endian x86-64 dump). Requires common.sh. Offsets are computed from the size fields, never assumed.

# TPM2B_PUBLIC -> TPMT_PUBLIC: drop the u16 size after checking it equals the bytes that follow.
tpm2b_to_tpmt() {
  local in=$1 out=$2 n
  n=$(u16_at "$in" 0)
  (( n + 2 == $(size_of "$in") )) || fail "tpm2b_to_tpmt: size field $n does not match $in"
  tail -c +3 "$in" > "$out"
}

# Offsets inside a TPMS_ATTEST: prints "EXTRA_OFF CLOCK_OFF" (TPM2B_DATA extraData, TPMS_CLOCK_INFO).
# Layout: magic u32 | type u16 | qualifiedSigner TPM2B_NAME | extraData TPM2B_DATA | clockInfo (17) | firmware u64 | attested
attest_offsets() {
  local f=$1 nlen dlen
  nlen=$(u16_at "$f" 6)
  dlen=$(u16_at "$f" $(( 8 + nlen )))
  echo "$(( 8 + nlen )) $(( 8 + nlen + 2 + dlen ))"
}

# The u16 TPM_ST attestation type of a TPMS_ATTEST, as 4 hex digits.
attest_type_hex() { local h; h=$(hex_of "$1"); echo "${h:8:4}"; }

# Forge a TPMS_ATTEST quote: copy TEMPLATE (a real quote) but put NAME_FILE (TPM2B_NAME body) as qualifiedSigner.
# Magic, type, nonce, clock, firmware, PCR selection and PCR digest stay those of the real quote.
attest_forge_signer() {
  local tpl=$1 namef=$2 out=$3 h nlen name
  h=$(hex_of "$tpl"); nlen=$(u16_at "$tpl" 6); name=$(hex_of "$namef")
  hex_to_file "${h:0:12}$(printf '%04x' $(( ${#name} / 2 )))${name}${h:16+nlen*2}" "$out"
}

# Rewrite the sigAlg (first u16) of a TPMT_SIGNATURE to ALGHEX (e.g. 0014 RSASSA, 0016 RSAPSS).
sig_set_alg() { patch_bytes "$1" "$2" 0 "$3"; }

# Byte offset of PCR INDEX's digest in a tpm2-tools serialized PCR file holding one sha256 bank of
# PCRs 0..N in order: TPML_PCR_SELECTION (132 B) | u32 count | count x TPML_DIGEST (u32 count + 8 x (u16 size + 64 B)).
pcrfile_digest_offset() { local i=$1; echo $(( 132 + 4 + (i / 8) * 532 + 4 + (i % 8) * 66 + 2 )); }

# Check the serialized PCR file against the plain values file: every digest size is 32 (LE) and the bytes agree.
pcrfile_matches_values() {
  local pf=$1 vf=$2 n=$3 ph vh i off
  ph=$(hex_of "$pf"); vh=$(hex_of "$vf")
  (( ${#vh} == n * 64 )) || return 1
  for (( i = 0; i < n; i++ )); do
    off=$(pcrfile_digest_offset "$i")
    [[ ${ph:(off-2)*2:4} == 2000 ]] || return 1
    [[ ${ph:off*2:64} == "${vh:i*64:64}" ]] || return 1
  done
}

# The pcrDigest (last TPM2B_DIGEST) of a TPMS_ATTEST quote with a single-bank selection, hex.
attest_pcr_digest() { local h; h=$(hex_of "$1"); echo "${h: -$(( $2 * 2 ))}"; }

# Replay the recorded events (JSON lines {pcr, sha256}) from all-zero PCRs and compare with the TPM's values file.
replay_events_check() {
  local events=$1 values=$2 vh p d i
  local -A cur=()
  vh=$(hex_of "$values")
  while read -r p d; do
    cur[$p]=$(sha256_hex "${cur[$p]:-$(printf '%064d' 0)}$d")
  done < <(jq -r '"\(.pcr) \(.sha256)"' "$events")
  for i in "${!cur[@]}"; do
    [[ ${cur[$i]} == "${vh:i*64:64}" ]] || fail "event replay of PCR $i disagrees with tpm2_pcrread"
  done
}
