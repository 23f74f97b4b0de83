#!/usr/bin/env bash
# Generates throwaway X.509 CAs and AK leaf certificates for test/akcert*.test.ts, with fixed validity dates
# (openssl ca -startdate/-enddate), and records openssl's own verdict for every case in manifest.json.
# Usage: bash testvectors/certs/gen.sh [OUTDIR]   (default: the directory of this script)
# Needs: openssl >= 3.0 (Debian package: openssl). Keys live only in a temp dir and are deleted.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
AZURE=${AZURE_CERTS:-$HERE/../../../shared/certs/azure}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
rm -f "$OUT"/*.pem "$OUT"/*.der "$OUT"/manifest.json

# Fixed times: the validation time used by the tests, and the standard validity windows.
AT_ISO=2026-06-01T00:00:00Z
AT_EPOCH=$(date -u -d "$AT_ISO" +%s)
CA_FROM=20240101000000Z; CA_TO=20340101000000Z
LEAF_FROM=20250101000000Z; LEAF_TO=20280101000000Z

# One openssl config: CA database settings plus every extension profile used below.
cat > "$W/ca.cnf" <<'CNF'
[ ca ]
default_ca = CA_default
[ CA_default ]
database = ./index.txt
new_certs_dir = ./new
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ int ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ int_pl1 ]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ int_noca ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ int_nocertsign ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ tpm_dn ]
0.2.23.133.2.1 = id:414D4400
1.2.23.133.2.2 = SLB9670
2.2.23.133.2.3 = id:000D0005
[ ak ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
subjectAltName = critical,dirName:tpm_dn
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ak_noaki ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ ak_eku81 ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.1
subjectAltName = critical,dirName:tpm_dn
authorityKeyIdentifier = keyid:always
[ ak_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid:always
[ ak_noeku ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
authorityKeyIdentifier = keyid:always
[ ak_critunknown ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
1.3.6.1.4.1.55555.1.1 = critical,DER:0500
authorityKeyIdentifier = keyid:always
[ ak_sandns ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
subjectAltName = critical,DNS:ak.test.invalid
authorityKeyIdentifier = keyid:always
[ ak_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = 2.23.133.8.3
authorityKeyIdentifier = keyid:always
[ ak_keyenc ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = 2.23.133.8.3
authorityKeyIdentifier = keyid:always
CNF
mkdir -p "$W/new"; touch "$W/index.txt"; echo 1000 > "$W/serial"

# key NAME SPEC : a fresh private key (rsa2048, rsa3072, p256, p384)
key() {
  case $2 in
    rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa}" -out "$W/$1.key" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/$1.key" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$W/$1.key" ;;
  esac
}
# issue NAME SUBJECT ISSUER(or self) PROFILE FROM TO MD [extra openssl ca args]: writes OUT/NAME.pem and .der
issue() {
  local name=$1 subj=$2 issuer=$3 prof=$4 from=$5 to=$6 md=$7; shift 7
  openssl req -new -key "$W/$name.key" -subj "$subj" -out "$W/$name.csr"
  local -a signer
  if [[ $issuer == self ]]; then signer=(-selfsign -keyfile "$W/$name.key"); else
    signer=(-cert "$OUT/$issuer.pem" -keyfile "$W/$issuer.key"); fi
  (cd "$W" && openssl ca -config ca.cnf "${signer[@]}" -in "$name.csr" -out "$W/$name.pem" -extensions "$prof" \
    -startdate "$from" -enddate "$to" -md "$md" -batch -notext -preserveDN "$@" 2>/dev/null)
  openssl x509 -in "$W/$name.pem" -out "$OUT/$name.pem"
  openssl x509 -in "$W/$name.pem" -outform DER -out "$OUT/$name.der"
}

# The CA hierarchies: RSA (3072 root, 2048 intermediate), EC (P-384 root, P-256 intermediate), an unrelated root.
key root-rsa rsa3072; issue root-rsa "/O=aicert test/CN=aicert Test RSA Root" self root 20240101000000Z 20440101000000Z sha256
key int-rsa rsa2048; issue int-rsa "/O=aicert test/CN=aicert Test RSA AK CA" root-rsa int $CA_FROM $CA_TO sha256
key root-ec p384; issue root-ec "/O=aicert test/CN=aicert Test EC Root" self root 20240101000000Z 20440101000000Z sha384
key int-ec p256; issue int-ec "/O=aicert test/CN=aicert Test EC AK CA" root-ec int $CA_FROM $CA_TO sha384
key root-other rsa2048; issue root-other "/O=aicert test/CN=aicert Untrusted Root" self root 20240101000000Z 20440101000000Z sha256
# Broken intermediates: CA:FALSE, no keyCertSign, and a pathlen:0 CA that issues another CA.
key int-noca rsa2048; issue int-noca "/O=aicert test/CN=aicert Not A CA" root-rsa int_noca $CA_FROM $CA_TO sha256
key int-nocertsign rsa2048; issue int-nocertsign "/O=aicert test/CN=aicert No CertSign CA" root-rsa int_nocertsign $CA_FROM $CA_TO sha256
key int-sub rsa2048; issue int-sub "/O=aicert test/CN=aicert Sub CA Under PathLen0" int-rsa int $CA_FROM $CA_TO sha256
# An impostor: same subject as int-rsa, different key, never given to the verifier.
key impostor rsa2048; issue impostor "/O=aicert test/CN=aicert Test RSA AK CA" self root $CA_FROM $CA_TO sha256

# AK leaves.
key ak-rsa rsa2048; issue ak-rsa "/O=aicert test/CN=ak-rsa.test" int-rsa ak $LEAF_FROM $LEAF_TO sha256
key ak-ec p256; issue ak-ec "/" int-ec ak $LEAF_FROM $LEAF_TO sha256
key ak-pss rsa2048; issue ak-pss "/CN=ak-pss.test" int-rsa ak $LEAF_FROM $LEAF_TO sha256 \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256
key ak-eku81 p256; issue ak-eku81 "/CN=ak-eku81.test" int-rsa ak_eku81 $LEAF_FROM $LEAF_TO sha256
key ak-server p256; issue ak-server "/CN=ak-server.test" int-rsa ak_server $LEAF_FROM $LEAF_TO sha256
key ak-noeku p256; issue ak-noeku "/CN=ak-noeku.test" int-rsa ak_noeku $LEAF_FROM $LEAF_TO sha256
key ak-expired p256; issue ak-expired "/CN=ak-expired.test" int-rsa ak 20240101000000Z 20250101000000Z sha256
key ak-notyet p256; issue ak-notyet "/CN=ak-notyet.test" int-rsa ak 20300101000000Z 20310101000000Z sha256
key ak-critunknown p256; issue ak-critunknown "/CN=ak-critunknown.test" int-rsa ak_critunknown $LEAF_FROM $LEAF_TO sha256
key ak-sandns p256; issue ak-sandns "/CN=ak-sandns.test" int-rsa ak_sandns $LEAF_FROM $LEAF_TO sha256
key ak-ca p256; issue ak-ca "/CN=ak-ca.test" int-rsa ak_ca $LEAF_FROM $LEAF_TO sha256
key ak-keyenc p256; issue ak-keyenc "/CN=ak-keyenc.test" int-rsa ak_keyenc $LEAF_FROM $LEAF_TO sha256
key ak-impostor p256; issue ak-impostor "/CN=ak-impostor.test" impostor ak_noaki $LEAF_FROM $LEAF_TO sha256
key ak-noca p256; issue ak-noca "/CN=ak-under-noca.test" int-noca ak $LEAF_FROM $LEAF_TO sha256
key ak-nocertsign p256; issue ak-nocertsign "/CN=ak-under-nocertsign.test" int-nocertsign ak $LEAF_FROM $LEAF_TO sha256
key ak-pathlen p256; issue ak-pathlen "/CN=ak-under-sub.test" int-sub ak $LEAF_FROM $LEAF_TO sha256
# A leaf whose subject needs RFC 4514 escaping and has a multi-valued RDN (name rendering cross-check).
key ak-names p256; issue ak-names '/C=DE/O=aicert\, test\+x/OU=a"b;c<d>\\e/CN=ak-names+UID=u1' int-rsa ak $LEAF_FROM $LEAF_TO sha256
# A certificate loop: A issued by B and B issued by A (B is first self-signed only to bootstrap A), plus a leaf.
key loop-a rsa2048; key loop-b rsa2048
issue loop-b "/O=aicert test/CN=aicert Loop B" self root $CA_FROM $CA_TO sha256
issue loop-a "/O=aicert test/CN=aicert Loop A" loop-b root $CA_FROM $CA_TO sha256
issue loop-b "/O=aicert test/CN=aicert Loop B" loop-a root $CA_FROM $CA_TO sha256
key ak-loop p256; issue ak-loop "/CN=ak-loop.test" loop-a ak $LEAF_FROM $LEAF_TO sha256
# A chain deeper than the validator's cap of 8 certificates: root-rsa -> deep-1 ... deep-7 -> leaf (9 certificates).
prev=root-rsa
for i in 1 2 3 4 5 6 7; do key "deep-$i" p256; issue "deep-$i" "/O=aicert test/CN=aicert Deep CA $i" $prev root $CA_FROM $CA_TO sha256; prev=deep-$i; done
key ak-deep p256; issue ak-deep "/CN=ak-deep.test" deep-7 ak $LEAF_FROM $LEAF_TO sha256
# A leaf named like Azure Trusted Launch AK certificates (CN=<vm id>.TrustedVM.Azure.Microsoft).
key ak-azure-like rsa2048; issue ak-azure-like "/CN=0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0.TrustedVM.Azure.Microsoft" int-rsa ak $LEAF_FROM $LEAF_TO sha256
# More ECDSA-signed leaves, so that high-S signatures (about half of OpenSSL's) are exercised.
for i in 1 2 3 4 5 6; do key "ak-ec-$i" p256; issue "ak-ec-$i" "/CN=ak-ec-$i.test" int-ec ak $LEAF_FROM $LEAF_TO sha256; done
rm -f "$OUT/impostor.pem" "$OUT/impostor.der"
# A copy of ak-rsa with the last signature byte flipped.
cp "$OUT/ak-rsa.der" "$OUT/ak-badsig.der"
last=$(( $(stat -c %s "$OUT/ak-badsig.der") - 1 ))
byte=$(od -An -tu1 -j "$last" -N1 "$OUT/ak-badsig.der" | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 1 )))" | dd of="$OUT/ak-badsig.der" bs=1 seek="$last" conv=notrunc status=none
openssl x509 -inform DER -in "$OUT/ak-badsig.der" -out "$OUT/ak-badsig.pem"

# ossl LEAF ANCHORS UNTRUSTED PARTIAL ATEPOCH : openssl's verdict as "valid" or "invalid: <error line>"
ossl() {
  local leaf=$1 anchors=$2 untrusted=$3 partial=$4 at=$5 f
  cat /dev/null > "$W/anchors.pem"; cat /dev/null > "$W/untrusted.pem"
  for f in $anchors; do cat "$OUT/$f.pem" >> "$W/anchors.pem"; done
  for f in $untrusted; do cat "$OUT/$f.pem" >> "$W/untrusted.pem"; done
  local -a args=(-attime "$at" -purpose any -CAfile "$W/anchors.pem")
  [[ -n $untrusted ]] && args+=(-untrusted "$W/untrusted.pem")
  [[ $partial == true ]] && args+=(-partial_chain)
  local out
  if out=$(openssl verify "${args[@]}" "$OUT/$leaf.pem" 2>&1); then echo valid; else
    echo "invalid: $(grep -m1 -o 'error [0-9]*.*' <<<"$out" | tr -d '"\\')"; fi
}

# manifest: one JSON object per case. expect = our verdict ("valid" or an error code), stated here by hand;
# comparable = openssl -purpose any can express this check, so our validity must equal openssl's.
cases=()
# case NAME LEAF "ANCHORS" "INTERMEDIATES" PARTIAL REQUIRE_EKU EXPECT COMPARABLE
case_() {
  local verdict; verdict=$(ossl "$2" "$3" "$4" "$5" "$AT_EPOCH")
  local ov=invalid ev=invalid; [[ $verdict == valid ]] && ov=valid; [[ $7 == valid ]] && ev=valid
  if [[ $8 == true && $ov != "$ev" ]]; then
    echo "gen.sh: openssl disagrees with the stated expectation for $1: $verdict" >&2; exit 1; fi
  local j=() f; for f in $3; do j+=("\"$f\""); done; local anchors; anchors=$(IFS=,; echo "${j[*]}")
  j=(); for f in $4; do j+=("\"$f\""); done; local ints; ints=$(IFS=,; echo "${j[*]}")
  cases+=("    {\"name\":\"$1\",\"leaf\":\"$2\",\"anchors\":[$anchors],\"intermediates\":[$ints],\"partialChain\":$5,\"requireAikEku\":$6,\"expect\":\"$7\",\"comparable\":$8,\"openssl\":\"$verdict\"}")
}
case_ rsa-valid ak-rsa root-rsa int-rsa false true valid true
case_ ec-valid ak-ec root-ec int-ec false true valid true
for i in 1 2 3 4 5 6; do case_ "ec-valid-$i" "ak-ec-$i" root-ec int-ec false true valid true; done
case_ loop ak-loop root-rsa "loop-a loop-b" false true CERT_UNTRUSTED_ROOT true
case_ too-deep ak-deep root-rsa "deep-1 deep-2 deep-3 deep-4 deep-5 deep-6 deep-7" false true CERT_CHAIN_INVALID false
case_ deep-but-partial ak-deep deep-2 "deep-3 deep-4 deep-5 deep-6 deep-7" true true valid true
case_ azure-like-valid ak-azure-like root-rsa int-rsa false true valid true
case_ names-valid ak-names root-rsa int-rsa false true valid true
case_ rsa-pss-valid ak-pss root-rsa int-rsa false true valid true
case_ eku81-valid ak-eku81 root-rsa int-rsa false true valid true
case_ eku-server ak-server root-rsa int-rsa false true CERT_EKU_MISSING false
case_ eku-server-relaxed ak-server root-rsa int-rsa false false valid true
case_ eku-none ak-noeku root-rsa int-rsa false true CERT_EKU_MISSING false
case_ eku-none-relaxed ak-noeku root-rsa int-rsa false false valid true
case_ untrusted-root ak-rsa root-other int-rsa false true CERT_UNTRUSTED_ROOT true
case_ untrusted-root-given ak-rsa root-other "int-rsa root-rsa" false true CERT_UNTRUSTED_ROOT true
case_ missing-intermediate ak-rsa root-rsa "" false true CERT_UNTRUSTED_ROOT true
case_ partial-anchor-intermediate ak-rsa int-rsa "" true true valid true
case_ expired ak-expired root-rsa int-rsa false true CERT_EXPIRED true
case_ not-yet-valid ak-notyet root-rsa int-rsa false true CERT_NOT_YET_VALID true
case_ critical-unknown-ext ak-critunknown root-rsa int-rsa false true CERT_UNHANDLED_CRITICAL_EXTENSION true
case_ critical-san-dns ak-sandns root-rsa int-rsa false true CERT_UNHANDLED_CRITICAL_EXTENSION false
case_ leaf-is-ca ak-ca root-rsa int-rsa false true CERT_CONSTRAINTS_INVALID false
case_ leaf-keyusage ak-keyenc root-rsa int-rsa false true CERT_CONSTRAINTS_INVALID false
case_ bad-signature ak-badsig root-rsa int-rsa false true CERT_SIGNATURE_INVALID true
case_ wrong-issuer-key ak-impostor root-rsa int-rsa false true CERT_SIGNATURE_INVALID true
case_ intermediate-not-ca ak-noca root-rsa int-noca false true CERT_CONSTRAINTS_INVALID true
case_ intermediate-no-certsign ak-nocertsign root-rsa int-nocertsign false true CERT_CONSTRAINTS_INVALID true
case_ pathlen-exceeded ak-pathlen root-rsa "int-rsa int-sub" false true CERT_CONSTRAINTS_INVALID true

# Azure's public hierarchy (when ../shared/certs/azure is present): openssl's verdicts on the intermediates.
az=()
if [[ -d $AZURE ]]; then
  for spec in "ca03 global-virtual-tpm-ca-03 2026-06-01T00:00:00Z" "ca01 global-virtual-tpm-ca-01 2024-06-01T00:00:00Z" \
              "ca01 global-virtual-tpm-ca-01 2025-11-04T00:00:00Z" "ca03 global-virtual-tpm-ca-03 2027-04-25T00:00:00Z"; do
    read -r id file at <<<"$spec"
    if out=$(openssl verify -attime "$(date -u -d "$at" +%s)" -purpose any -CAfile "$AZURE/azure-virtual-tpm-root-ca-2023.pem" \
      "$AZURE/$file.pem" 2>&1); then v=valid; else v="invalid: $(grep -m1 -o 'error [0-9]*.*' <<<"$out")"; fi
    az+=("    {\"cert\":\"$id\",\"at\":\"$at\",\"openssl\":\"$v\"}")
  done
fi

# Per-certificate facts as openssl prints them, for cross-checking our summaries.
certs=()
for f in "$OUT"/*.pem; do
  n=$(basename "$f" .pem)
  info=$(openssl x509 -in "$f" -noout -subject -issuer -serial -startdate -enddate -fingerprint -sha256 \
    -nameopt sep_comma_plus_space,sname,esc_2253,utf8)
  field() { grep -m1 "^$1" <<<"$info" | cut -d= -f2- | sed 's/\\/\\\\/g; s/"/\\"/g'; }
  iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%S.000Z; }
  fp=$(grep -m1 Fingerprint <<<"$info" | cut -d= -f2 | tr -d : | tr 'A-F' 'a-f')
  certs+=("    \"$n\": {\"subject\":\"$(field subject=)\",\"issuer\":\"$(field issuer=)\",\"serial\":\"$(field serial= | tr 'A-F' 'a-f')\",\"notBefore\":\"$(iso "$(field notBefore=)")\",\"notAfter\":\"$(iso "$(field notAfter=)")\",\"sha256\":\"$fp\"}")
done

{
  echo "{"
  echo "  \"generator\": \"testvectors/certs/gen.sh\", \"openssl\": \"$(openssl version | cut -d' ' -f1-2)\","
  echo "  \"at\": \"$AT_ISO\","
  echo "  \"cases\": ["; (IFS=$'\n'; echo "${cases[*]}" | sed '$!s/$/,/'); echo "  ],"
  echo "  \"azure\": ["; if ((${#az[@]})); then (IFS=$'\n'; echo "${az[*]}" | sed '$!s/$/,/'); fi; echo "  ],"
  echo "  \"certs\": {"; (IFS=$'\n'; echo "${certs[*]}" | sed '$!s/$/,/'); echo "  }"
  echo "}"
} > "$OUT/manifest.json"
echo "gen.sh: wrote ${#cases[@]} cases to $OUT/manifest.json"
