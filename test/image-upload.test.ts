/**
 * `aicert image upload` against Azurite (page blobs) and the loopback gallery fake: the VHD lands as a page blob with
 * the same bytes (zero ranges unwritten, still read as zeros), the definition is Gen2 / TrustedLaunchSupported /
 * Specialized / Linux, the version takes the blob as source and replicates to every region, the image_id is the
 * version's resource id. A VHD that is not the one the manifest lists is never uploaded; a missing gallery fails.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArmClient } from '../src/launcher/arm.js';
import { parseContainerUrl } from '../src/launcher/blob.js';
import { uploadImage, type ImageUploadOptions } from '../src/launcher/image-upload.js';
import { runCli } from './helpers/cli.js';
import { azuriteAvailable, startAzurite, type Azurite } from './helpers/azurite.js';
import { FakeGalleryArm } from './helpers/fake-gallery-arm.js';

const SUB = '/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/aicert-images';
const GALLERY = `${SUB}/providers/Microsoft.Compute/galleries/aicert_gallery`;
const ACCOUNT_ID = `${SUB}/providers/Microsoft.Storage/storageAccounts/devstoreaccount1`;
const MiB = 1 << 20;

describe.skipIf(!azuriteAvailable())('aicert image upload (Azurite page blob + fake gallery ARM)', () => {
  let azurite: Azurite, arm: FakeGalleryArm, dir: string, vhd: Buffer;
  beforeAll(async () => {
    azurite = await startAzurite();
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const svc = BlobServiceClient.fromConnectionString(azurite.connectionString);
    arm = await new FakeGalleryArm([GALLERY], async (uri) => {
      const name = uri.split('/').pop()!;
      return svc.getContainerClient('images').getBlobClient(name).exists();
    }).start();
    dir = mkdtempSync(join(tmpdir(), 'aicert-upload-'));
    // 9 MiB + footer: data in the first and last MiB, zeros between (the unwritten page ranges)
    vhd = Buffer.alloc(9 * MiB + 512);
    vhd.fill(0xa1, 0, MiB);
    vhd.fill(0x5c, 8 * MiB, 9 * MiB);
    vhd.write('conectix', 9 * MiB, 'latin1');
    writeFileSync(join(dir, 'disk.vhd'), vhd);
    const sha256 = createHash('sha256').update(vhd).digest('hex');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts: { 'disk.vhd': { size: vhd.length, sha256 } } }));
  }, 120_000);
  afterAll(async () => {
    await arm?.close();
    await azurite?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const opts = (o: Partial<ImageUploadOptions> = {}): ImageUploadOptions => ({
    imageDir: dir,
    storage: parseContainerUrl(`${azurite.accountUrl}/images`),
    storageAuth: { connectionString: azurite.connectionString },
    storageAccountId: ACCOUNT_ID,
    galleryId: GALLERY,
    definition: 'aicert-runner-cpu',
    version: '1.0.0',
    regions: ['westeurope', 'northeurope'],
    arm: new ArmClient({ endpoint: arm.url, credential: arm.credential, fetch: arm.fetch, pollIntervalMs: 5, minPollIntervalMs: 1, baseDelayMs: 5 }),
    ...o,
  });

  it('uploads the page blob, creates the definition and a replicated version, returns the image_id', async () => {
    const r = await uploadImage(opts());
    expect(r.imageId).toBe(`${GALLERY}/images/aicert-runner-cpu/versions/1.0.0`);
    const { BlobServiceClient } = await import('@azure/storage-blob');
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('images').getPageBlobClient('aicert-runner-cpu-1.0.0.vhd');
    const props = await blob.getProperties();
    expect(props.blobType).toBe('PageBlob');
    expect(props.contentLength).toBe(vhd.length);
    expect(Buffer.compare(await blob.downloadToBuffer(), vhd)).toBe(0);
    // only the non-zero 4 MiB chunks were written
    // the SDK's typings say {start, end}; its parsed answer is {offset, count}: accept either
    const ranges = ((await blob.getPageRanges()).pageRange ?? []) as unknown as { start?: number; end?: number; offset?: number; count?: number }[];
    const written = ranges.reduce((n, x) => n + (x.count ?? x.end! - x.start! + 1), 0);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(vhd.length);
    const def = arm.resources.get(`${GALLERY}/images/aicert-runner-cpu`.toLowerCase())!;
    expect(def.state).toBe('Succeeded');
    expect(def.body.properties).toMatchObject({ osType: 'Linux', osState: 'Specialized', hyperVGeneration: 'V2', features: [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }] });
    const ver = arm.resources.get(r.imageId.toLowerCase())!;
    expect(ver.body.properties.publishingProfile.targetRegions.map((t: { name: string }) => t.name)).toEqual(['westeurope', 'northeurope']);
    expect(ver.body.properties.storageProfile.osDiskImage.source).toEqual({ storageAccountId: ACCOUNT_ID, uri: r.blobUrl });
    // a second upload of another version updates the definition (200) and adds the version
    const r2 = await uploadImage(opts({ version: '1.0.1' }));
    expect(arm.resources.has(r2.imageId.toLowerCase())).toBe(true);
    expect(arm.requests.filter((q) => q.method === 'PUT' && q.path.endsWith('/images/aicert-runner-cpu')).map((q) => q.status)).toEqual([201, 200]);
  });

  it('refuses a VHD that is not the manifest\'s before any request, and bad names', async () => {
    const before = arm.requests.length;
    writeFileSync(join(dir, 'disk.vhd'), Buffer.concat([vhd.subarray(0, 100), Buffer.from([vhd[100]! ^ 1]), vhd.subarray(101)]));
    await expect(uploadImage(opts({ version: '2.0.0' }))).rejects.toThrow(/not the one manifest.json lists/);
    writeFileSync(join(dir, 'disk.vhd'), vhd);
    await expect(uploadImage(opts({ version: '2' }))).rejects.toThrow(TypeError);
    await expect(uploadImage(opts({ galleryId: `${SUB}/providers/Microsoft.Compute/disks/x` }))).rejects.toThrow(TypeError);
    expect(arm.requests.length).toBe(before);
  });

  it('a gallery that does not exist fails with ARM\'s answer', async () => {
    await expect(uploadImage(opts({ galleryId: `${SUB}/providers/Microsoft.Compute/galleries/nope` }))).rejects.toThrow(/ParentResourceNotFound|not found/);
  });

  it('the CLI refuses incomplete options (exit 2)', async () => {
    const r = await runCli(['image', 'upload', '--image', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing --storage-url/);
  });
});
