# shellcheck shell=bash
# Case builders for gen-quote.sh. Globals used: K (private work dir), STAGE (output being built), NONCE, SEL_ALL.
# Every case folder holds: quote.msg quote.sig quote.pcrs pcrs.values.bin nonce.hex ak.pub ak.tpmt ak.pem ak.name
# and, where a certificate is part of the case, ak.crt.pem ak.crt.der chain.pem intermediate.der.

CASE_FILES=(quote.msg quote.sig quote.pcrs pcrs.values.bin nonce.hex ak.pub ak.tpmt ak.pem ak.name)

# Create an AK under the EK: make_ak NAME KEYALG HASH SCHEME -> $K/NAME/{ctx,ak.pub,ak.tpmt,ak.pem,ak.name,scheme}
make_ak() {
  local name=$1 g=$2 h=$3 s=$4 d=$K/$1
  mkdir -p "$d"
  tpm2_createak -C "$K/ek.ctx" -c "$d/ctx" -G "$g" -g "$h" -s "$s" -u "$d/ak.pub" -r "$d/ak.priv" -n "$d/ak.name" >/dev/null
  tpm_flush
  tpm2_readpublic -c "$d/ctx" -f pem -o "$d/ak.pem" >/dev/null
  tpm_flush
  tpm2b_to_tpmt "$d/ak.pub" "$d/ak.tpmt"
  echo "$h $s" > "$d/scheme"
}

# Quote with AK NAME into DIR: quote_into DIR NAME NONCE_HEX SELECTION (also copies the AK files and nonce.hex).
quote_into() {
  local dir=$1 a=$K/$2 nonce=$3 sel=$4 h s
  read -r h s < "$a/scheme"
  mkdir -p "$dir"
  tpm2_quote -c "$a/ctx" -l "$sel" -q "$nonce" -g "$h" --scheme "$s" \
    -m "$dir/quote.msg" -s "$dir/quote.sig" -o "$dir/quote.pcrs" >/dev/null
  tpm_flush
  cp "$a/ak.pub" "$a/ak.tpmt" "$a/ak.pem" "$a/ak.name" "$dir/"
  printf '%s' "$nonce" > "$dir/nonce.hex"
}

# Self-consistency of a genuine quote: serialized PCR file == values file, and pcrDigest == HASH(values).
check_pcr_consistency() {
  local d=$1 h=$2 n=$3 want
  pcrfile_matches_values "$d/quote.pcrs" "$d/pcrs.values.bin" "$n" || fail "$d: quote.pcrs disagrees with pcrs.values.bin"
  want=$(openssl dgst "-$h" -r "$d/pcrs.values.bin" | cut -d' ' -f1)
  [[ $(attest_pcr_digest "$d/quote.msg" $(( ${#want} / 2 ))) == "$want" ]] || fail "$d: pcrDigest != $h(PCR values)"
}

# Copy the quote/AK files of case SRC into a new folder DST.
copy_case() { mkdir -p "$2"; cp "${CASE_FILES[@]/#/$1/}" "$2/"; }

# Issue an AK certificate into DIR for the public key of AK KEYNAME: issue_cert DIR KEYNAME EXT ISSUER [past]
issue_cert() {
  local d=$1 key=$2 ext=$3 issuer=$4 past=${5:-} cn
  cn="vm-$(hex_of "$K/$key/ak.name" | cut -c5-20).TrustedVM.Azure.Microsoft"
  ca_issue_ak "$K" "$issuer" "$K/$key/ak.pem" "/O=aicert test vectors/CN=$cn" "$ext" "$K/leaf.pem"
  if [[ -n $past ]]; then ca_backdate "$K" "$issuer" "$K/leaf.pem" "$K/leaf-past.pem"; mv "$K/leaf-past.pem" "$K/leaf.pem"; fi
  cert_export "$K/leaf.pem" "$d/ak.crt"
  # chain.pem: intermediate first, then the leaf (deliberately not leaf-first); an attacker chain also carries its root.
  cat "$K/$issuer.pem" "$d/ak.crt.pem" > "$d/chain.pem"
  if [[ $issuer == untrusted-intermediate ]]; then cat "$K/untrusted-root.pem" >> "$d/chain.pem"; fi
  openssl x509 -in "$K/$issuer.pem" -outform DER -out "$d/intermediate.der"
}

# A genuine quote by AK NAME over sha256:0-23, with a good certificate: positive_case NAME HASH SCHEME CQ_PRED [NOTE]
positive_case() {
  local name=$1 h=$2 s=$3 cqp=$4 note=${5:-} d=$STAGE/$1
  quote_into "$d" "$name" "$NONCE" "$SEL_ALL"
  cp "$STAGE/pcrs.values.bin" "$d/"
  check_pcr_consistency "$d" "$h" 24
  issue_cert "$d" "$name" ext_ak intermediate
  record_case "$d" valid "" "" "$cqp" "$h" "Genuine quote by $name ($s-$h) over sha256:0-23 with a good AK certificate." "$note"
}

# A genuine quote over sha256:0-13 handed exactly its own 14 PCRs (valid: selection parsing, not the 0-23 default).
partial_own_case() {
  local d=$STAGE/ak-rsa-sel0-13
  quote_into "$d" ak-rsa "$NONCE" "sha256:$(seq -s, 0 13)"
  head -c $(( 14 * 32 )) "$STAGE/pcrs.values.bin" > "$d/pcrs.values.bin"
  check_pcr_consistency "$d" sha256 14
  record_case "$d" valid "" "" valid sha256 "Genuine quote by ak-rsa over sha256:0-13 with exactly those 14 PCRs (no certificate)."
}

# Negative quote cases for AK ak-A (A = rsa|ecc). Each changes one thing of the genuine case $STAGE/ak-A.
negative_quote_cases() {
  local a=$1 base=$STAGE/ak-$1 ak=ak-$1 d off clk sz s h=sha256
  s=$(cut -d' ' -f2 < "$K/$ak/scheme")
  d=$STAGE/negative/$a-wrong-nonce
  quote_into "$d" "$ak" "$(openssl rand -hex 32)" "$SEL_ALL"; printf '%s' "$NONCE" > "$d/nonce.hex"; cp "$base/pcrs.values.bin" "$d/"
  record_case "$d" invalid NONCE_MISMATCH "" invalid $h "Genuine quote made with another random nonce; nonce.hex holds the expected one."

  d=$STAGE/negative/$a-flip-msg; copy_case "$base" "$d"
  read -r _ clk < <(attest_offsets "$base/quote.msg"); off=$(( clk + 7 ))
  flip_bit "$base/quote.msg" "$d/quote.msg" "$off" 0
  record_case "$d" invalid SIGNATURE_INVALID "" invalid $h "quote.msg with bit 0 of byte $off (last byte of clockInfo.clock) flipped; only the signature can catch it."

  d=$STAGE/negative/$a-flip-sig; copy_case "$base" "$d"; sz=$(size_of "$base/quote.sig")
  flip_bit "$base/quote.sig" "$d/quote.sig" $(( sz - 1 )) 0
  record_case "$d" invalid SIGNATURE_INVALID "" invalid $h "quote.sig with bit 0 of its last byte (offset $(( sz - 1 )), inside the signature value) flipped."

  d=$STAGE/negative/$a-flip-pcr; copy_case "$base" "$d"; off=$(pcrfile_digest_offset 14)
  flip_bit "$base/quote.pcrs" "$d/quote.pcrs" "$off" 7
  flip_bit "$base/pcrs.values.bin" "$d/pcrs.values.bin" $(( 14 * 32 )) 7
  record_case "$d" invalid PCR_DIGEST_MISMATCH "" invalid $h "PCR 14 value with its top bit flipped (quote.pcrs byte $off, pcrs.values.bin byte $(( 14 * 32 )))."

  d=$STAGE/negative/$a-partial-selection
  quote_into "$d" "$ak" "$NONCE" "sha256:$(seq -s, 0 13)"; cp "$base/quote.pcrs" "$base/pcrs.values.bin" "$d/"
  record_case "$d" invalid PCR_SELECTION_MISMATCH "" invalid $h "Genuine quote over sha256:0-13 only, handed all 24 PCRs (quote.pcrs of the 0-23 quote)."

  d=$STAGE/negative/$a-wrong-magic; copy_case "$base" "$d"
  patch_bytes "$base/quote.msg" "$d/quote.msg" 0 ff544346
  record_case "$d" invalid MAGIC_INVALID SIGNATURE_INVALID invalid $h "quote.msg magic changed from ff544347 to ff544346; the signature then fails as well."

  d=$STAGE/negative/$a-certify-type; copy_case "$base" "$d"
  tpm2_certify -c "$K/$ak/ctx" -C "$K/$ak/ctx" -g $h --scheme "$s" -o "$d/quote.msg" -s "$d/quote.sig" >/dev/null; tpm_flush
  [[ $(attest_type_hex "$d/quote.msg") == 8017 ]] || fail "tpm2_certify did not produce TPM_ST_ATTEST_CERTIFY"
  record_case "$d" invalid ATTEST_TYPE_INVALID NONCE_MISMATCH invalid $h \
    "TPMS_ATTEST of type CERTIFY (0x8017; $ak certifying itself) with a valid signature by the same AK." \
    "tpm2_certify 5.4 cannot set qualifyingData (it sends 00ff55aa), so extraData also differs from nonce.hex; see $a-time-type for a type-only case."

  d=$STAGE/negative/$a-time-type; copy_case "$base" "$d"
  tpm2_gettime -c "$K/$ak/ctx" -q "$NONCE" -g $h --scheme "$s" --attestation "$d/quote.msg" -o "$d/quote.sig" >/dev/null; tpm_flush
  [[ $(attest_type_hex "$d/quote.msg") == 8019 ]] || fail "tpm2_gettime did not produce TPM_ST_ATTEST_TIME"
  record_case "$d" invalid ATTEST_TYPE_INVALID "" invalid $h "TPMS_ATTEST of type TIME (0x8019) with extraData = nonce and a valid signature by the same AK."

  non_restricted_case "$a"
}

# Non-restricted signing key (tpm2_create under an owner primary) signs a forged quote: signature valid, key not restricted.
non_restricted_case() {
  local a=$1 base=$STAGE/ak-$1 d=$STAGE/negative/$1-non-restricted n=$K/nr-$1 alg s
  if [[ $a == rsa ]]; then alg=rsa2048:rsassa-sha256; s=rsassa; else alg=ecc256:ecdsa-sha256; s=ecdsa; fi
  mkdir -p "$n"; copy_case "$base" "$d"
  [[ -f $K/primary.ctx ]] || { tpm2_createprimary -C o -g sha256 -G ecc256 -c "$K/primary.ctx" >/dev/null; tpm_flush; }
  tpm2_create -C "$K/primary.ctx" -G "$alg" -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign' \
    -u "$d/ak.pub" -r "$n/priv" >/dev/null; tpm_flush
  tpm2_load -C "$K/primary.ctx" -u "$d/ak.pub" -r "$n/priv" -c "$n/ctx" -n "$d/ak.name" >/dev/null; tpm_flush
  tpm2_readpublic -c "$n/ctx" -f pem -o "$d/ak.pem" >/dev/null; tpm_flush
  tpm2b_to_tpmt "$d/ak.pub" "$d/ak.tpmt"
  attest_forge_signer "$base/quote.msg" "$d/ak.name" "$d/quote.msg"
  tpm2_sign -c "$n/ctx" -g sha256 -s "$s" -o "$d/quote.sig" "$d/quote.msg" >/dev/null; tpm_flush
  record_case "$d" invalid AK_NOT_RESTRICTED_SIGNING "" valid sha256 \
    "Forged TPMS_ATTEST quote (magic, type, nonce, PCR digest all right; qualifiedSigner = this key) signed with tpm2_sign by a NON-restricted $s key." \
    "Only detectable from ak.pub/ak.tpmt (restricted attribute clear); with ak.pem alone the quote verifies. tpm2_checkquote accepts it."
}

# Certificate cases for ak-A: the quote is genuine, the certificate is the problem.
negative_cert_cases() {
  local a=$1 base=$STAGE/ak-$1 d other
  d=$STAGE/negative/$a-cert-expired; copy_case "$base" "$d"; issue_cert "$d" "ak-$a" ext_ak intermediate past
  record_case "$d" invalid CERT_EXPIRED "" valid sha256 "Good quote; AK certificate valid 2020-01-01..2021-01-01 only (re-signed by the trusted intermediate)."
  d=$STAGE/negative/$a-cert-wrong-eku; copy_case "$base" "$d"; issue_cert "$d" "ak-$a" ext_ak_wrong_eku intermediate
  record_case "$d" invalid CERT_EKU_MISSING "" valid sha256 "Good quote; AK certificate from the trusted CA with EKU serverAuth instead of 2.23.133.8.3."
  # The other key is an AK of the same key type: ak-rsapss for rsa (saves an RSA key generation), ak-ecc-other for ecc.
  other='ak-ecc-other'; [[ $a == rsa ]] && other='ak-rsapss'
  d=$STAGE/negative/$a-cert-other-key; copy_case "$base" "$d"; issue_cert "$d" "$other" ext_ak intermediate
  record_case "$d" invalid AK_KEY_MISMATCH "" valid sha256 "Good quote; valid AK certificate from the trusted CA, but for another AK ($other) of the same key type."
  d=$STAGE/negative/$a-cert-untrusted-root; copy_case "$base" "$d"; issue_cert "$d" "ak-$a" ext_ak untrusted-intermediate
  record_case "$d" invalid CERT_UNTRUSTED_ROOT "" valid sha256 "Good quote; AK certificate chains to a second, untrusted root (which chain.pem itself carries)."
}

# RSASSA <-> RSAPSS swaps between the TPMT_SIGNATURE sigAlg and the AK's TPMT_PUBLIC scheme.
scheme_swap_cases() {
  local d scheme_off plen
  d=$STAGE/negative/rsa-scheme-pss-as-rsassa; copy_case "$STAGE/ak-rsapss" "$d"
  sig_set_alg "$STAGE/ak-rsapss/quote.sig" "$d/quote.sig" 0014
  record_case "$d" invalid SIGNATURE_SCHEME_MISMATCH SIGNATURE_INVALID invalid sha256 \
    "ak-rsapss quote whose TPMT_SIGNATURE sigAlg was rewritten RSAPSS(0x0016) -> RSASSA(0x0014); the AK's scheme is RSAPSS."
  d=$STAGE/negative/rsa-scheme-rsassa-as-pss; copy_case "$STAGE/ak-rsa" "$d"
  sig_set_alg "$STAGE/ak-rsa/quote.sig" "$d/quote.sig" 0016
  record_case "$d" invalid SIGNATURE_SCHEME_MISMATCH SIGNATURE_INVALID valid sha256 \
    "ak-rsa quote whose TPMT_SIGNATURE sigAlg was rewritten RSASSA(0x0014) -> RSAPSS(0x0016); the AK's scheme is RSASSA." \
    "tpm2_checkquote 5.4 accepts it: it picks the RSA padding from the AK's scheme, not from the signature's sigAlg."
  # Genuine RSAPSS signature, but the AK public area claims RSASSA: TPMT_PUBLIC type|nameAlg|attrs|authPolicy|sym(NULL)|scheme
  d=$STAGE/negative/rsa-scheme-ak-says-rsassa; copy_case "$STAGE/ak-rsapss" "$d"
  plen=$(u16_at "$d/ak.tpmt" 8); scheme_off=$(( 10 + plen + 2 ))
  [[ $(u16_at "$d/ak.tpmt" $(( 10 + plen ))) == 16 && $(u16_at "$d/ak.tpmt" "$scheme_off") == 22 ]] || fail "unexpected RSAPSS AK layout"
  patch_bytes "$STAGE/ak-rsapss/ak.tpmt" "$d/ak.tpmt" "$scheme_off" 0014
  patch_bytes "$STAGE/ak-rsapss/ak.pub" "$d/ak.pub" $(( scheme_off + 2 )) 0014
  hex_to_file "000b$(sha256_of "$d/ak.tpmt")" "$d/ak.name"
  record_case "$d" invalid SIGNATURE_SCHEME_MISMATCH "" invalid sha256 \
    "Genuine RSAPSS quote by ak-rsapss, but ak.pub/ak.tpmt had its scheme rewritten RSAPSS -> RSASSA (ak.name recomputed; ak.pem unchanged)." \
    "The PSS signature is cryptographically valid for the key; the AK's declared scheme forbids it. The rewritten AK's Name no longer equals qualifiedSigner. tpm2_checkquote rejects only because of its PSS salt-length limitation."
}
