#!/usr/bin/env node
// hostile-trainer.mjs MODE [ARG] — a training command that attacks the runner (the hostile-trainer suite).
// It always writes OUTPUT/model.bin (fixed bytes) and OUTPUT/report.json (what each attempt got), then attacks:
//   read-key PATH      copy PATH (the runner's TLS key) into OUTPUT/stolen.key if it can read it
//   tpm TCTI           open /dev/tpm0, /dev/tpmrm0, connect to the swtpm (TCP or unix socket) and run
//                      tpm2_pcrreset 23 / tpm2_pcrextend 14 through tpm2-tools
//   net PORT           connect to a loopback listener of the host on PORT
//   background         leave a detached process that rewrites OUTPUT/model.bin after 1.5 s and writes OUTPUT/late
//   symlink PATH       OUTPUT/key.pem -> PATH;  fifo: OUTPUT/pipe (mkfifo);  device: OUTPUT/null (mknod c 1 3);
//   socket             a unix socket at OUTPUT/sock
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

const out = process.env.AICERT_OUTPUT_DIR;
const [mode, arg] = process.argv.slice(2);
const report = {};
const attempt = (name, f) => {
  try {
    report[name] = { ok: true, value: f() ?? null };
  } catch (e) {
    report[name] = { ok: false, error: String(e.code ?? e.message).slice(0, 200) };
  }
};
const connect = (opts) => new Promise((res) => {
  const s = createConnection(opts);
  const t = setTimeout(() => (s.destroy(), res({ ok: false, error: 'timeout' })), 2000);
  s.once('connect', () => (clearTimeout(t), s.end('stolen'), res({ ok: true })));
  s.once('error', (e) => (clearTimeout(t), res({ ok: false, error: e.code })));
});
writeFileSync(join(out, 'model.bin'), Buffer.alloc(4096, 0x42));

if (mode === 'read-key') attempt('read', () => (copyFileSync(arg, join(out, 'stolen.key')), 'copied'));
if (mode === 'tpm') {
  for (const d of ['/dev/tpm0', '/dev/tpmrm0']) attempt(d, () => (openSync(d, 'r+'), 'opened'));
  const m = /port=(\d+)/.exec(arg), p = /path=([^,]+)/.exec(arg);
  report.socket = await connect(m ? { host: '127.0.0.1', port: Number(m[1]) } : { path: p[1] });
  const env = { ...process.env, TPM2TOOLS_TCTI: arg };
  attempt('pcrreset', () => execFileSync('tpm2_pcrreset', ['23'], { env, stdio: 'pipe', timeout: 5000 }).toString());
  attempt('pcrextend', () => execFileSync('tpm2_pcrextend', [`14:sha256=${'ab'.repeat(32)}`], { env, stdio: 'pipe', timeout: 5000 }).toString());
}
if (mode === 'net') report.connect = await connect({ host: '127.0.0.1', port: Number(arg) });
if (mode === 'background') {
  const code = `setTimeout(() => { require('fs').writeFileSync(${JSON.stringify(join(out, 'model.bin'))}, 'rewritten'); require('fs').writeFileSync(${JSON.stringify(join(out, 'late'))}, 'x'); }, 1500); setInterval(() => {}, 1000);`;
  spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' }).unref();
  report.spawned = true;
}
if (mode === 'symlink') attempt('symlink', () => symlinkSync(arg, join(out, 'key.pem')));
if (mode === 'fifo') attempt('fifo', () => execFileSync('mkfifo', [join(out, 'pipe')], { stdio: 'pipe' }).toString());
if (mode === 'device') attempt('mknod', () => execFileSync('mknod', [join(out, 'null'), 'c', '1', '3'], { stdio: 'pipe' }).toString());
if (mode === 'socket') await new Promise((res) => createServer().listen(join(out, 'sock'), () => ((report.socket = existsSync(join(out, 'sock'))), res())));
writeFileSync(join(out, 'report.json'), JSON.stringify(report) + '\n');
process.stdout.write(`hostile ${mode}: ${JSON.stringify(report)}\n`);
process.exit(0);
