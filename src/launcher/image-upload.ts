/**
 * `aicert image upload` (spec/runner-image.md §Azure): the image's fixed VHD as a page blob (only non-zero 4 MiB
 * ranges are written; its digest is checked against manifest.json first), a gallery image definition (Gen2,
 * SecurityType TrustedLaunchSupported, Specialized, Linux, x64) and an image version from that blob, replicated to the
 * chosen regions. Returns the version's resource id: the launcher config's image_id.
 * ARM shapes: Microsoft.Compute galleries 2023-07-03 (galleries/images, galleries/images/versions).
 * Page blobs: https://learn.microsoft.com/rest/api/storageservices/put-page (512-byte aligned, ≤ 4 MiB per call).
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArmClient } from './arm.js';
import type { ContainerRef, StorageAuth } from './blob.js';
import { optionalImport } from './optional.js';
import { readJson } from '../util/json.js';

export const GALLERY_API = '2023-07-03';
const CHUNK = 4 << 20;

export interface ImageUploadOptions {
  /** `aicert image build` output folder (disk.vhd, manifest.json). */
  imageDir: string;
  /** Container for the VHD and its auth. */
  storage: ContainerRef;
  storageAuth: StorageAuth;
  /** ARM id of the storage account holding the container (the image version's source). */
  storageAccountId: string;
  /** ARM id of the gallery: /subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/galleries/G */
  galleryId: string;
  definition: string;
  /** Image version, MAJOR.MINOR.PATCH. */
  version: string;
  /** Regions to replicate to; the first is the gallery's location unless `location` is given. */
  regions: string[];
  location?: string;
  /** publisher/offer/sku of the definition (default aicert / runner / cpu). */
  identifier?: { publisher: string; offer: string; sku: string };
  arm: ArmClient;
  log?: (line: string) => void;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const GALLERY_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/galleries\/[A-Za-z0-9_.]{1,80}$/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;

/** Checks the options before anything is uploaded or created (TypeError on misuse). */
function checkOptions(o: ImageUploadOptions): void {
  if (!GALLERY_ID.test(o.galleryId)) throw new TypeError(`--gallery must be a gallery resource id, got ${o.galleryId}`);
  if (!NAME.test(o.definition)) throw new TypeError(`bad image definition name ${o.definition}`);
  if (!/^\d{1,9}\.\d{1,9}\.\d{1,9}$/.test(o.version)) throw new TypeError(`--version must be MAJOR.MINOR.PATCH, got ${o.version}`);
  if (o.regions.length === 0 || o.regions.some((r) => !/^[a-z0-9]{2,40}$/.test(r))) throw new TypeError('--region: one or more Azure region names (e.g. westeurope)');
  if (!/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Storage\/storageAccounts\/[a-z0-9]{3,24}$/i.test(o.storageAccountId))
    throw new TypeError(`--storage-account-id must be a storage account resource id, got ${o.storageAccountId}`);
}

/** The VHD's size and sha256, which must equal manifest.json's (a changed file is never uploaded). */
async function checkedVhd(imageDir: string): Promise<{ path: string; size: number; sha256: string }> {
  const manifest = readJson(new Uint8Array(await readFile(join(imageDir, 'manifest.json'))), 'manifest.json') as { artifacts?: Record<string, { size: number; sha256: string }> };
  const want = manifest.artifacts?.['disk.vhd'];
  if (!want) throw new Error(`${imageDir}/manifest.json lists no disk.vhd`);
  const path = join(imageDir, 'disk.vhd');
  const h = createHash('sha256');
  let size = 0;
  const f = await open(path);
  try {
    for await (const c of f.createReadStream({ highWaterMark: CHUNK })) {
      h.update(c as Buffer);
      size += (c as Buffer).length;
    }
  } finally {
    await f.close().catch(() => undefined);
  }
  const sha256 = h.digest('hex');
  if (size !== want.size || sha256 !== want.sha256) throw new Error(`disk.vhd (${size} bytes, sha256 ${sha256}) is not the one manifest.json lists (${want.sha256})`);
  if (size % 512 !== 0) throw new Error('disk.vhd size is not a multiple of 512 (not a fixed VHD)');
  return { path, size, sha256 };
}

/** Uploads the VHD as a page blob; returns the blob URL (no SAS). */
async function uploadPageBlob(o: ImageUploadOptions, vhd: { path: string; size: number; sha256: string }): Promise<string> {
  const sb = await optionalImport('@azure/storage-blob', () => import('@azure/storage-blob'));
  const name = `${o.definition}-${o.version}.vhd`;
  let svc;
  if ('connectionString' in o.storageAuth) svc = sb.BlobServiceClient.fromConnectionString(o.storageAuth.connectionString);
  else svc = new sb.BlobServiceClient(o.storage.accountUrl, o.storageAuth.credential as never);
  const container = svc.getContainerClient(o.storage.container);
  await container.createIfNotExists({ abortSignal: o.signal });
  const blob = container.getPageBlobClient(name);
  await blob.create(vhd.size, { abortSignal: o.signal, metadata: { aicert_sha256: vhd.sha256 } });
  const f = await open(vhd.path);
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let off = 0; off < vhd.size; off += CHUNK) {
      const { bytesRead } = await f.read(buf, 0, Math.min(CHUNK, vhd.size - off), off);
      // all-zero ranges stay unwritten: a page blob reads as zeros there
      if (buf.subarray(0, bytesRead).some((b) => b !== 0)) await blob.uploadPages(buf.subarray(0, bytesRead), off, bytesRead, { abortSignal: o.signal });
      o.onProgress?.(off + bytesRead, vhd.size);
    }
  } finally {
    await f.close();
  }
  const props = await blob.getProperties({ abortSignal: o.signal });
  if (props.contentLength !== vhd.size || props.blobType !== 'PageBlob') throw new Error(`uploaded blob is ${props.blobType} of ${props.contentLength} bytes, expected a PageBlob of ${vhd.size}`);
  return `${o.storage.url}/${name}`;
}

/** Uploads and registers the image; returns the image version id (the launcher's image_id). */
export async function uploadImage(o: ImageUploadOptions): Promise<{ imageId: string; blobUrl: string; definitionId: string }> {
  const log = o.log ?? (() => undefined);
  checkOptions(o);
  const vhd = await checkedVhd(o.imageDir);
  log(`uploading disk.vhd (${vhd.size} bytes, sha256 ${vhd.sha256}) as a page blob`);
  const blobUrl = await uploadPageBlob(o, vhd);
  const location = o.location ?? o.regions[0]!;
  const definitionId = `${o.galleryId}/images/${o.definition}`;
  log(`image definition ${definitionId}`);
  await o.arm.put(definitionId, GALLERY_API, {
    location,
    properties: {
      osType: 'Linux',
      osState: 'Specialized',
      hyperVGeneration: 'V2',
      architecture: 'x64',
      features: [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }],
      identifier: o.identifier ?? { publisher: 'aicert', offer: 'runner', sku: 'cpu' },
      description: 'aicert runner image (spec/runner-image.md)',
    },
  }, o.signal);
  const imageId = `${definitionId}/versions/${o.version}`;
  log(`image version ${o.version}, replicated to ${o.regions.join(', ')}`);
  await o.arm.put(imageId, GALLERY_API, {
    location,
    tags: { aicert_vhd_sha256: vhd.sha256 },
    properties: {
      publishingProfile: { targetRegions: o.regions.map((name) => ({ name, regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' })), replicationMode: 'Full' },
      storageProfile: { osDiskImage: { hostCaching: 'ReadOnly', source: { storageAccountId: o.storageAccountId, uri: blobUrl } } },
      safetyProfile: { allowDeletionOfReplicatedLocations: true },
    },
  }, o.signal);
  return { imageId, blobUrl, definitionId };
}
