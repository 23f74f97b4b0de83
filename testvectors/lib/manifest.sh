# shellcheck shell=bash
# Case bookkeeping for gen-quote.sh: runs tpm2_checkquote on every case, cross-checks certificates with
# `openssl verify`, and appends one JSON object per case to $CASES (JSON lines). Requires common.sh, jq.

# JSON object {file: {sha256, size}} for every file in DIR (one jq call).
files_json() {
  (cd "$1" && jq -n -c --rawfile sums <(sha256sum -- *) --rawfile sizes <(stat -c '%n %s' -- *) '
    ($sizes | split("\n") | map(select(. != "") | split(" ") | {key: .[0], value: (.[1] | tonumber)}) | from_entries) as $sz
    | $sums | split("\n") | map(select(. != "") | capture("^(?<h>[0-9a-f]{64})  (?<n>.+)$")
    | {key: .n, value: {sha256: .h, size: $sz[.n]}}) | from_entries')
}

# Run tpm2_checkquote on DIR's files with hash HASH; sets CQ_RC, CQ_ERR and CQ_CMD.
run_checkquote() {
  local d=$1 hash=$2 out
  CQ_CMD="tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -f quote.pcrs -g $hash -q $(cat "$d/nonce.hex")"
  CQ_RC=0
  # shellcheck disable=SC2086  # CQ_CMD is a fixed word list without globs
  out=$(cd "$d" && $CQ_CMD 2>&1 >/dev/null) || CQ_RC=$?
  CQ_ERR=$(grep -m1 'ERROR' <<<"$out" || true)
  if (( CQ_RC == 0 )); then CQ_VERDICT=valid; else CQ_VERDICT=invalid; fi
}

# Verify DIR/quote.sig over DIR/quote.msg with openssl and DIR/ak.pem, using the scheme and hash the TPMT_SIGNATURE
# itself names (RSASSA, RSAPSS with auto salt length, ECDSA r,s -> DER). Prints valid|invalid. Independent of tpm2-tools.
openssl_sig_verdict() {
  local d=$1 h alg hash md rlen r slen s int_r int_s der
  local -a opts=()
  h=$(hex_of "$d/quote.sig"); alg=${h:0:4}; hash=${h:4:4}
  case $hash in 000b) md=sha256 ;; 000c) md=sha384 ;; 000d) md=sha512 ;; 0004) md=sha1 ;; *) echo invalid; return ;; esac
  case $alg in
    0014|0016)
      hex_to_file "${h:12}" "$K/sig.raw"
      if [[ $alg == 0016 ]]; then opts=(-pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:auto); fi ;;
    0018)
      rlen=$(( 16#${h:8:4} )); r=${h:12:rlen*2}; slen=$(( 16#${h:12+rlen*2:4} )); s=${h:16+rlen*2:slen*2}
      int_r=$(der_int "$r"); int_s=$(der_int "$s")
      der="${int_r}${int_s}"
      hex_to_file "30$(printf '%02x' $(( ${#der} / 2 )))${der}" "$K/sig.raw" ;;
    *) echo invalid; return ;;
  esac
  openssl dgst "-$md" -binary "$d/quote.msg" > "$K/sig.dgst"
  if openssl pkeyutl -verify -pubin -inkey "$d/ak.pem" -in "$K/sig.dgst" -sigfile "$K/sig.raw" \
      -pkeyopt "digest:$md" "${opts[@]}" >/dev/null 2>&1; then echo valid; else echo invalid; fi
}

# DER INTEGER (hex) for an unsigned big-endian hex value: strip leading zero bytes, add 00 if the top bit is set.
der_int() {
  local v=$1
  while [[ ${#v} -gt 2 && ${v:0:2} == 00 ]]; do v=${v:2}; done
  if (( 16#${v:0:2} >= 128 )); then v="00$v"; fi
  printf '02%02x%s' $(( ${#v} / 2 )) "$v"
}

# Independent facts about DIR/ak.crt.pem: openssl verify against ANCHOR (with DIR/chain.pem as untrusted pool),
# EKU, validity, subject, and whether its public key equals DIR/ak.pem. Prints JSON or null when there is no cert.
cert_json() {
  local d=$1 anchor=$2 v eku same=false
  [[ -f $d/ak.crt.pem ]] || { echo null; return; }
  v=$(cd "$d" && openssl verify -CAfile "$anchor" -untrusted chain.pem ak.crt.pem 2>&1 | grep -m1 -E '^error|: OK$' || true)
  eku=$(openssl x509 -in "$d/ak.crt.pem" -noout -ext extendedKeyUsage 2>/dev/null | tail -n +2 | tr -d ' ')
  cmp -s <(openssl x509 -in "$d/ak.crt.pem" -noout -pubkey) "$d/ak.pem" && same=true
  jq -n -c --arg v "${v##*: }" --arg raw "$v" --arg eku "$eku" --argjson same "$same" \
    --arg subj "$(openssl x509 -in "$d/ak.crt.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" \
    --arg nb "$(date -u -d "$(openssl x509 -in "$d/ak.crt.pem" -noout -startdate | cut -d= -f2)" +%FT%TZ)" \
    --arg na "$(date -u -d "$(openssl x509 -in "$d/ak.crt.pem" -noout -enddate | cut -d= -f2)" +%FT%TZ)" \
    '{openssl_verify: $raw, openssl_ok: ($v == "OK"), eku: ($eku | split(",")), key_matches_ak: $same,
      subject: $subj, not_before: $nb, not_after: $na, trust_anchor: "ca/root.pem"}'
}

# What the cert facts must show for each expected cert outcome (the generator fails if they do not).
cert_confirms() {
  local c=$1 code=$2
  case $code in
    CERT_EXPIRED)        jq -e '.openssl_verify | test("expired")' <<<"$c" ;;
    CERT_UNTRUSTED_ROOT) jq -e '(.openssl_ok | not) and (.openssl_verify | test("expired") | not)' <<<"$c" ;;
    CERT_EKU_MISSING)    jq -e '.openssl_ok and (.eku | index("2.23.133.8.3") == null)' <<<"$c" ;;
    AK_KEY_MISMATCH)     jq -e '.openssl_ok and (.key_matches_ak | not)' <<<"$c" ;;
    *)                   jq -e '.openssl_ok and .key_matches_ak and (.eku | index("2.23.133.8.3") != null)' <<<"$c" ;;
  esac >/dev/null
}

# record_case DIR VERDICT ERROR ALSO CHECKQUOTE_PREDICTED HASH DESCRIPTION [NOTE]
#   VERDICT valid|invalid (overall, including the certificate when present); ERROR the first expected code or "";
#   ALSO comma-separated codes that would also fire; CHECKQUOTE_PREDICTED what tpm2_checkquote must say.
record_case() {
  local d=$1 verdict=$2 code=$3 also=$4 cq_pred=$5 hash=$6 desc=$7 note=${8:-} rel cert qv sigv want kind=positive
  rel=${d#"$STAGE"/}
  [[ $rel == negative/* ]] && kind=negative
  run_checkquote "$d" "$hash"
  [[ $CQ_VERDICT == "$cq_pred" ]] || fail "$rel: tpm2_checkquote said $CQ_VERDICT, predicted $cq_pred ($CQ_ERR)"
  sigv=$(openssl_sig_verdict "$d")
  # openssl must find the signature bad exactly when SIGNATURE_INVALID is among the expected failures.
  if [[ ",$code,$also," == *,SIGNATURE_INVALID,* ]]; then want=invalid; else want=valid; fi
  [[ $sigv == "$want" ]] || fail "$rel: openssl says the signature is $sigv, expected $want"
  cert=$(cert_json "$d" "$STAGE/ca/root.pem")
  if [[ $cert != null ]]; then cert_confirms "$cert" "$code" || fail "$rel: openssl facts do not confirm ${code:-valid cert}: $cert"; fi
  # The quote alone (ignoring certificates) is valid exactly when the only expected failure is a certificate one.
  qv=invalid
  [[ -z $code || $code == CERT_* || $code == AK_KEY_MISMATCH ]] && qv=valid
  jq -n -c --arg name "$(basename "$d")" --arg dir "$rel" --arg kind "$kind" --arg verdict "$verdict" --arg code "$code" \
    --arg also "$also" --arg qv "$qv" --arg hash "$hash" --arg desc "$desc" --arg note "$note" --arg nonce "$(cat "$d/nonce.hex")" \
    --argjson files "$(files_json "$d")" --argjson cert "$cert" --arg cqp "$cq_pred" \
    --arg sigv "$sigv" --arg cqv "$CQ_VERDICT" --argjson cqrc "$CQ_RC" --arg cqerr "$CQ_ERR" --arg cqcmd "$CQ_CMD" \
    '{name: $name, dir: $dir, kind: $kind, description: $desc, nonce: $nonce, hash: $hash,
      expected: {verdict: $verdict, error: (if $code == "" then null else $code end),
                 also: (if $also == "" then [] else ($also | split(",")) end), quote_verdict: $qv},
      checkquote: {verdict: $cqv, exit_code: $cqrc, error: (if $cqerr == "" then null else $cqerr end), command: $cqcmd,
                   predicted: $cqp, agrees_with_quote_verdict: ($cqv == $qv)},
      openssl_signature: $sigv, cert: $cert, note: (if $note == "" then null else $note end), files: $files}' >> "$CASES"
  printf '%-34s expect %-7s %-26s checkquote %-7s%s\n' "$rel" "$verdict" "${code:--}" "$CQ_VERDICT" \
    "$([[ $CQ_VERDICT != "$qv" ]] && echo "  (differs from quote verdict: see note)")"
}
