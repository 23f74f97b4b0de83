/**
 * `aicert finetune --qemu DIR` (spec/runner-image.md §Local mode): the flow of runFinetune against the runner INSIDE
 * the image of DIR, booted locally (qemu.ts), verified with the image's own policy.json (boot PCRs included) and the
 * throwaway AK root of this run's TPM. The model/dataset mirror goes into the VM as a tar through fw_cfg.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parsePolicy, type Policy } from '../aibom/policy.js';
import type { FinetuneOptions } from './finetune.js';
import { bootImage } from './qemu.js';
import { ToolError } from '../wire/tool-error.js';

const run = promisify(execFile);

/** The image's policy.json, strictly parsed. */
export async function imagePolicy(imageDir: string): Promise<Policy> {
  return parsePolicy(new Uint8Array(await readFile(join(imageDir, 'policy.json'))));
}

/**
 * FinetuneOptions parts that run the flow against the image in `imageDir`; `mirror` is a folder in mirror layout.
 * The run's throwaway AK root is written to OUTDIR/local-ak-root.pem so that aicert-verify can check the documents
 * again later (it proves only "this local swtpm", never a cloud platform).
 */
export async function qemuFinetuneOptions(imageDir: string, mirror: string, outDir: string, log: (l: string) => void): Promise<Pick<FinetuneOptions, 'localVm' | 'basePolicy'>> {
  const dir = resolve(imageDir);
  for (const f of ['disk.raw', 'policy.json']) if (!existsSync(join(dir, f))) throw new ToolError('INPUT_MISSING', `${dir} is not an 'aicert image build' output (no ${f})`);
  if (!existsSync(mirror)) throw new ToolError('INPUT_MISSING', `mirror folder ${mirror} does not exist`);
  const basePolicy = await imagePolicy(dir);
  return {
    basePolicy,
    localVm: async (launchNonce, signal) => {
      const tmp = await mkdtemp(join(tmpdir(), 'aicert-mirror-'));
      try {
        // Sorted, owner-less tar of the mirror (the runner hashes every file it reads).
        const tar = join(tmp, 'mirror.tar');
        await run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', resolve(mirror), '-cf', tar, '.']);
        const vm = await bootImage({ imageDir: dir, nonceHex: Buffer.from(launchNonce).toString('hex'), mirrorTar: tar, log, signal });
        await mkdir(outDir, { recursive: true });
        await writeFile(join(outDir, 'local-ak-root.pem'), vm.trustRootPem);
        log(`local VM booted in ${vm.bootSeconds.toFixed(1)} s; runner at ${vm.url}`);
        return { url: vm.url!, trustAnchors: [vm.trustRootPem], stop: async () => { await vm.stop(); await rm(tmp, { recursive: true, force: true }); } };
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        throw e;
      }
    },
  };
}
