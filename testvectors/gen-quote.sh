#!/usr/bin/env bash
# gen-quote.sh OUTDIR — the project's own TPM 2.0 quote test vectors, made by a freshly manufactured swtpm.
#
# Creates an EK and four AKs (RSA-2048 RSASSA, ECC P-256 ECDSA, RSA-2048 RSAPSS, ECC P-384 ECDSA-SHA384), extends
# PCRs 14/8/15 with recorded events, quotes sha256:0-23 with a random 32-byte nonce, issues AK certificates from a
# throwaway openssl CA, builds one folder per negative case, runs tpm2_checkquote on every case and writes
# OUTDIR/manifest.json (schema in testvectors/README.md). OUTDIR is replaced only when the whole run succeeded.
# Needs: swtpm swtpm-tools tpm2-tools libtss2-tcti-swtpm0 openssl xxd jq. Only 127.0.0.1 is used; swtpm is stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for lib in common swtpm ca tpmstruct manifest cases; do
  # shellcheck source=/dev/null
  source "$HERE/lib/$lib.sh"
done

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
OUT=$(realpath -m "$1")
if [[ -e $OUT && -n $(ls -A "$OUT" 2>/dev/null) && ! -f $OUT/manifest.json ]]; then
  fail "$OUT is not empty and holds no manifest.json from a previous run; refusing to replace it"
fi
for tool in swtpm swtpm_setup tpm2_startup tpm2_checkquote openssl xxd jq; do
  command -v "$tool" >/dev/null || fail "missing tool: $tool"
done

T0=$(now_ms)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aicert-gen-quote.XXXXXX")
STAGE=$WORK/out            # everything is built here, then moved to OUT
K=$WORK/keys               # TPM contexts, CA private keys: never copied to OUT
CASES=$WORK/cases.jsonl
mkdir -p "$STAGE"/{ca,events,negative} "$K"
: > "$CASES"

# Stop swtpm by PID and remove the work dir on every exit path.
on_exit() { local rc=$?; swtpm_stop; rm -rf "$WORK"; exit "$rc"; }
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- 1. fresh TPM: manufacture, start on 127.0.0.1, TPM2_Startup(CLEAR)
swtpm_manufacture "$K/tpm" "$K/swtpm_setup.log"
swtpm_start "$K/tpm" "$K/swtpm.log"
tpm2_startup -c
say "swtpm pid $SWTPM_PID on 127.0.0.1:$SWTPM_PORT"
prop() { tpm2_getcap properties-fixed | awk -v p="$1:" '$1 == p { getline; print $2; exit }'; }
TPM_MFR=$(printf '%08X' "$(prop TPM2_PT_MANUFACTURER)"); TPM_VENDOR=$(printf '%08X' "$(prop TPM2_PT_VENDOR_STRING_1)")
TPM_FW=$(printf '%08X%08X' "$(prop TPM2_PT_FIRMWARE_VERSION_1)" "$(prop TPM2_PT_FIRMWARE_VERSION_2)")

# ---- 2. throwaway CAs: trusted root -> intermediate, and an untrusted second root -> intermediate
ca_write_config "$K" "id:$TPM_MFR" "id:$TPM_VENDOR" "id:${TPM_FW:0:8}"
ca_root "$K" root "/O=aicert test vectors/CN=aicert Test AK Root CA"
ca_intermediate "$K" intermediate root "/O=aicert test vectors/CN=aicert Test AK Issuing CA"
ca_root "$K" untrusted-root "/O=aicert test vectors/CN=UNTRUSTED Test Root CA"
ca_intermediate "$K" untrusted-intermediate untrusted-root "/O=aicert test vectors/CN=UNTRUSTED Issuing CA"
for c in root intermediate untrusted-root untrusted-intermediate; do cert_export "$K/$c.pem" "$STAGE/ca/$c"; done

# ---- 3. PCR events: exact bytes in events/, TPM extended with sha256(bytes) in the sha256 bank
SEQ=0
: > "$WORK/events.jsonl"
extend_file() {  # PCR FILE
  local d; d=$(sha256_of "$2"); SEQ=$((SEQ + 1))
  tpm2_pcrextend "$1:sha256=$d"
  jq -n -c --argjson s "$SEQ" --argjson p "$1" --arg f "events/$(basename "$2")" --arg d "$d" \
    '{seq: $s, pcr: $p, file: $f, sha256: $d}' >> "$WORK/events.jsonl"
}
event_json() { local f; f="$STAGE/events/$(printf '%02d' $((SEQ + 1)))-pcr$1.json"; printf '%s' "$2" > "$f"; extend_file "$1" "$f"; }
event_json 14 '{"event":"launch","workload":"aicert-test","version":"0.1.0"}'
event_json 8 '{"event":"kernel-cmdline","value":"console=ttyS0 ro quiet"}'
event_json 14 '{"event":"model-loaded","sha256":"'"$(printf 'model-weights-v1' | sha256sum | cut -c1-64)"'"}'
event_json 14 '{"event":"ready","note":"naïve café ✓"}'
cp "$STAGE/ca/root.pem" "$STAGE/events/$(printf '%02d' $((SEQ + 1)))-pcr15.pem"
extend_file 15 "$STAGE/events/$(printf '%02d' $((SEQ + 1)))-pcr15.pem"
tpm2_pcrread -o "$STAGE/pcrs.values.bin" "sha256:$(seq -s, 0 23)" > "$STAGE/pcrread.yaml"
replay_events_check "$WORK/events.jsonl" "$STAGE/pcrs.values.bin"

# ---- 4. EK, AKs, quotes, certificates, positive cases
NONCE=$(openssl rand -hex 32)
printf '%s' "$NONCE" > "$STAGE/nonce.hex"
tpm2_createek -c "$K/ek.ctx" -G rsa -u "$K/ek.pub" >/dev/null; tpm_flush
SEL_ALL="sha256:$(seq -s, 0 23)"
make_ak ak-rsa rsa sha256 rsassa
make_ak ak-ecc ecc256 sha256 ecdsa
make_ak ak-rsapss rsa sha256 rsapss
make_ak ak-ecc384 ecc384 sha384 ecdsa
make_ak ak-ecc-other ecc256 sha256 ecdsa     # only its public key is used (certificate for a different key)

positive_case ak-rsa sha256 rsassa valid
positive_case ak-ecc sha256 ecdsa valid
positive_case ak-rsapss sha256 rsapss invalid \
  "tpm2-tools 5.4 tpm2_checkquote verifies RSAPSS with salt length = max; libtpms signs with salt length = digest size (32). A verifier should accept both (RFC 8017 auto salt)."
positive_case ak-ecc384 sha384 ecdsa valid
partial_own_case

# ---- 5. negative cases (each in negative/<name>/ with the same file names)
for a in rsa ecc; do
  negative_quote_cases "$a"
  negative_cert_cases "$a"
done
scheme_swap_cases

# ---- 6. stop swtpm, manifest, move into place
tpm2_shutdown -c >/dev/null 2>&1 || true
swtpm_stop
ELAPSED=$(( $(now_ms) - T0 ))
jq -n --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg nonce "$NONCE" --argjson ms "$ELAPSED" \
  --arg swtpm "$(swtpm --version 2>&1 | head -1)" --arg setup "$(swtpm_setup --version 2>&1 | head -1)" \
  --arg tools "$(tpm2_quote --version 2>&1 | head -1)" --arg ossl "$(openssl version)" --arg bash "$BASH_VERSION" \
  --arg jqv "$(jq --version)" --arg mfr "$TPM_MFR" --arg vendor "$TPM_VENDOR" --arg fw "$TPM_FW" \
  --arg pcrs "$(hex_of "$STAGE/pcrs.values.bin")" \
  --slurpfile events "$WORK/events.jsonl" --slurpfile cases "$CASES" \
  '{schema: "aicert-testvectors-quote/1", generator: "testvectors/gen-quote.sh", generated_at: $at, elapsed_ms: $ms,
    tools: {swtpm: $swtpm, swtpm_setup: $setup, "tpm2-tools": $tools, openssl: $ossl, bash: $bash, jq: $jqv},
    tpm: {manufacturer: $mfr, vendor_string_1: $vendor, firmware_version: $fw},
    nonce: $nonce, pcr_selection: "sha256:0-23",
    pcrs: {sha256: ([range(0; 24)] | map({key: tostring, value: $pcrs[. * 64:(. + 1) * 64]}) | from_entries)},
    events: $events,
    trust_anchors: ["ca/root.pem"], untrusted_roots: ["ca/untrusted-root.pem"],
    cases: $cases}' > "$STAGE/manifest.json"
mkdir -p "$OUT"
find "$OUT" -mindepth 1 -delete
cp -R "$STAGE/." "$OUT/"
say "$(jq '.cases | length' "$OUT/manifest.json") cases in ${ELAPSED} ms -> $OUT/manifest.json"
