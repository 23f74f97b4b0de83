# shellcheck shell=bash
# Throwaway openssl CAs for AK certificates (root -> intermediate -> AK leaf). Requires common.sh.
# Private keys stay in the work dir; only certificates (PEM + DER) are written to the output.

# Write WORK/ca.cnf with every extension profile; the SAN values come from the TPM's fixed properties.
ca_write_config() {
  local w=$1 mfr=$2 model=$3 ver=$4
  cat > "$w/ca.cnf" <<CNF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ ext_root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ext_intermediate ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# TCG EK Credential Profile style AK certificate: EKU tcg-kp-AIKCertificate, critical SAN with a directoryName only.
[ ext_ak ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 2.23.133.8.3
subjectAltName = critical,dirName:tpm_san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# Same as ext_ak but with the WRONG extended key usage (TLS serverAuth).
[ ext_ak_wrong_eku ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = critical,dirName:tpm_san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
# TCG attributes tpmManufacturer, tpmModel, tpmVersion (2.23.133.2.1-3). openssl drops everything up to the
# first '.' of a dirName field name (to allow repeated fields), hence the 'tcg.' prefix.
[ tpm_san ]
tcg.2.23.133.2.1 = $mfr
tcg.2.23.133.2.2 = $model
tcg.2.23.133.2.3 = $ver
CNF
}

# Self-signed root: ca_root WORK NAME "SUBJECT" -> WORK/NAME.key, OUT certs via ca_export.
ca_root() {
  local w=$1 name=$2 subj=$3
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$w/$name.key" 2>/dev/null
  openssl req -new -x509 -key "$w/$name.key" -subj "$subj" -days 3650 -sha384 -config "$w/ca.cnf" \
    -extensions ext_root -set_serial "0x$(openssl rand -hex 8)" -out "$w/$name.pem"
}

# Intermediate signed by ISSUER: ca_intermediate WORK NAME ISSUER "SUBJECT".
ca_intermediate() {
  local w=$1 name=$2 issuer=$3 subj=$4
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$w/$name.key" 2>/dev/null
  openssl req -new -key "$w/$name.key" -subj "$subj" -config "$w/ca.cnf" -out "$w/$name.csr"
  openssl x509 -req -in "$w/$name.csr" -CA "$w/$issuer.pem" -CAkey "$w/$issuer.key" -days 1825 -sha384 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile "$w/ca.cnf" -extensions ext_intermediate -out "$w/$name.pem" 2>/dev/null
}

# AK certificate for public key AKPEM, issued by ISSUER with profile EXT: ca_issue_ak WORK ISSUER AKPEM "SUBJECT" EXT OUTPEM
# A restricted AK cannot sign a CSR, so a throwaway CSR is used and its key replaced with -force_pubkey.
ca_issue_ak() {
  local w=$1 issuer=$2 akpem=$3 subj=$4 ext=$5 out=$6
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/csr.key" 2>/dev/null
  openssl req -new -key "$w/csr.key" -subj "$subj" -config "$w/ca.cnf" -out "$w/ak.csr"
  openssl x509 -req -in "$w/ak.csr" -force_pubkey "$akpem" -CA "$w/$issuer.pem" -CAkey "$w/$issuer.key" \
    -days 365 -sha256 -set_serial "0x$(openssl rand -hex 8)" -extfile "$w/ca.cnf" -extensions "$ext" -out "$out" 2>/dev/null
  rm -f "$w/csr.key" "$w/ak.csr"
}

# Re-date certificate IN (issued by RSA ISSUER, sha256WithRSAEncryption) to 2020-01-01..2021-01-01 and re-sign -> OUT.
# OpenSSL 3.0 cannot issue with past dates (x509 has no -not_before; re-signing checks the input's validity), so the
# two UTCTime values inside the DER TBSCertificate are rewritten and the TBS is signed again with the issuer's key.
ca_backdate() {
  local w=$1 issuer=$2 in=$3 out=$4 der tbslen tbs validity pre sigalg siglen sig body
  der=$(openssl x509 -in "$in" -outform DER | xxd -p -c 100000 | tr -d '\n')
  [[ ${der:0:4} == 3082 && ${der:8:4} == 3082 ]] || fail "ca_backdate: unexpected certificate framing"
  tbslen=$(( 4 + 16#${der:12:4} ))
  tbs=${der:8:tbslen*2}
  # Validity ::= SEQUENCE { UTCTime(13), UTCTime(13) } = 30 1e 17 0d .. 17 0d ..
  validity=$(grep -ob '301e170d[0-9a-f]\{26\}170d[0-9a-f]\{26\}' <<<"$tbs" | head -1) || fail "ca_backdate: no UTCTime validity"
  pre=${validity%%:*}
  (( pre % 2 == 0 )) || fail "ca_backdate: misaligned validity"
  tbs="${tbs:0:pre}301e170d$(printf '200101000000Z' | xxd -p)170d$(printf '210101000000Z' | xxd -p)${tbs:pre+64}"
  sigalg=${der:8+tbslen*2:30}
  [[ $sigalg == 300d06092a864886f70d01010b0500 ]] || fail "ca_backdate: issuer must sign with sha256WithRSAEncryption"
  sig=$(hex_to_file "$tbs" /dev/stdout | openssl dgst -sha256 -sign "$w/$issuer.key" | xxd -p -c 100000 | tr -d '\n')
  siglen=$(( ${#sig} / 2 + 1 ))
  body="${tbs}${sigalg}038$(printf '2%04x' "$siglen")00${sig}"
  hex_to_file "3082$(printf '%04x' $(( ${#body} / 2 )))${body}" "$w/backdated.der"
  openssl x509 -inform DER -in "$w/backdated.der" -out "$out"
}

# Write PEM + DER of certificate SRC to OUTBASE.pem / OUTBASE.der.
cert_export() { openssl x509 -in "$1" -out "$2.pem"; openssl x509 -in "$1" -outform DER -out "$2.der"; }
