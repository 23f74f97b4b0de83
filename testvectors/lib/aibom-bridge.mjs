// Bridge from gen-aibom.mjs to the project's shell helpers (testvectors/lib/*.sh): swtpm lifecycle, throwaway CA,
// openssl certificate facts. Nothing is re-implemented here; every call sources the shared bash library.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIB = dirname(fileURLToPath(import.meta.url));

/** Runs `bash -c SCRIPT` with LIBS sourced from testvectors/lib; returns stdout. Args are $1.. (never interpolated). */
export function bashLib(libs, script, args = [], opts = {}) {
  const src = libs.map((l) => `source "$AICERT_LIB/${l}.sh"`).join('; ');
  return execFileSync('bash', ['-c', `set -euo pipefail; ${src}; ${script}`, 'bash', ...args], {
    env: { ...process.env, AICERT_LIB: LIB, ...(opts.env ?? {}) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
}

/** Runs a tool without a shell; returns {code, stdout, stderr}. */
export function runTool(cmd, args, opts = {}) {
  try {
    const stdout = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: typeof e.status === 'number' ? e.status : -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? e.message) };
  }
}

/**
 * Starts swtpm on 127.0.0.1 with lib/swtpm.sh (manufacturing DIR/state on first use). The bash keeper stops swtpm by
 * PID on SIGTERM, or when this Node process dies. Resolves {port, tcti, stop()}.
 */
export function swtpmSession(dir) {
  const script = `set -euo pipefail; source "$AICERT_LIB/common.sh"; source "$AICERT_LIB/swtpm.sh"
    if [[ ! -f $1/state/tpm2-00.permall ]]; then swtpm_manufacture "$1" "$1/setup.log"; fi
    swtpm_start "$1" "$1/swtpm.log"
    trap 'swtpm_stop; exit 0' TERM INT HUP
    echo "PORT $SWTPM_PORT"
    while kill -0 "$2" 2>/dev/null && kill -0 "$SWTPM_PID" 2>/dev/null; do sleep 0.3 & wait $! || true; done
    swtpm_stop`;
  const child = spawn('bash', ['-c', script, 'bash', dir, String(process.pid)], {
    env: { ...process.env, AICERT_LIB: LIB },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((res) => child.once('exit', (code) => res(code)));
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d) => {
      buf += d;
      const m = /PORT (\d+)/.exec(buf);
      if (!m) return;
      child.stdout.off('data', onData);
      const port = Number(m[1]);
      resolve({
        port,
        tcti: `swtpm:host=127.0.0.1,port=${port}`,
        async stop() {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    exited.then((code) => reject(new Error(`swtpm keeper exited (${code}) before reporting a port`)));
  });
}

/** Throwaway CA through lib/ca.sh: config (SAN from the TPM's properties), roots and intermediates. */
export function caSetup(k, tpmProps) {
  bashLib(['common', 'ca'], 'ca_write_config "$1" "$2" "$3" "$4"', [k, tpmProps.mfr, tpmProps.model, tpmProps.version]);
  bashLib(['common', 'ca'], 'ca_root "$1" root "/O=aicert demo/CN=aicert Demo AK Root CA"', [k]);
  bashLib(['common', 'ca'], 'ca_intermediate "$1" intermediate root "/O=aicert demo/CN=aicert Demo AK Issuing CA"', [k]);
  bashLib(['common', 'ca'], 'ca_root "$1" untrusted-root "/O=aicert demo/CN=UNTRUSTED Demo Root CA"', [k]);
  bashLib(['common', 'ca'], 'ca_intermediate "$1" untrusted-intermediate untrusted-root "/O=aicert demo/CN=UNTRUSTED Issuing CA"', [k]);
}

/**
 * AK certificate for AKPEM issued by ISSUER with profile EXT (ca.cnf: ext_ak | ext_ak_wrong_eku). Same recipe as
 * ca_issue_ak (throwaway CSR, -force_pubkey) but valid as long as the intermediate (1825 days) so the shipped demo
 * does not expire after a year; `past` re-dates it to 2020..2021 with ca_backdate.
 */
export function issueAk(k, issuer, akPem, subject, ext, out, { past = false } = {}) {
  const csrKey = join(k, 'leafcsr.key'), csr = join(k, 'leaf.csr');
  runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', csrKey]);
  runOk('openssl', ['req', '-new', '-key', csrKey, '-subj', subject, '-config', join(k, 'ca.cnf'), '-out', csr]);
  const serial = '0x' + runOk('openssl', ['rand', '-hex', '8']).trim();
  runOk('openssl', ['x509', '-req', '-in', csr, '-force_pubkey', akPem, '-CA', join(k, `${issuer}.pem`),
    '-CAkey', join(k, `${issuer}.key`), '-days', '1825', '-sha256', '-set_serial', serial,
    '-extfile', join(k, 'ca.cnf'), '-extensions', ext, '-out', out]);
  if (past) {
    bashLib(['common', 'ca'], 'ca_backdate "$1" "$2" "$3" "$4"', [k, issuer, out, `${out}.past`]);
    runOk('mv', [`${out}.past`, out]);
  }
}

/** openssl facts about a certificate chain, from lib/manifest.sh cert_json; `confirms` runs cert_confirms CODE. */
export function certFacts(caseDir, anchor, code = '') {
  if (!existsSync(join(caseDir, 'ak.crt.pem'))) return null;
  const json = bashLib(['common', 'manifest'], 'cert_json "$1" "$2"', [caseDir, anchor]).trim();
  const facts = JSON.parse(json);
  let confirms = true;
  try {
    bashLib(['common', 'manifest'], 'cert_confirms "$1" "$2"', [json, code]);
  } catch {
    confirms = false;
  }
  return { ...facts, trust_anchor: undefined, expected_code: code || 'valid', openssl_confirms: confirms };
}

/** Runs a command and returns stdout, throwing with stderr on failure. */
export function runOk(cmd, args, opts = {}) {
  const r = runTool(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
