/**
 * `aicert image upload` (see cmd-image.ts): DIR/disk.vhd to a page blob, then the gallery image definition and
 * version; prints the image_id for the launcher config. ARM credentials: DefaultAzureCredential (AZURE_ARM_ENDPOINT
 * overrides the endpoint); storage: AZURE_STORAGE_CONNECTION_STRING, else Entra ID. Exit 0 done, 2 usage, 3 failure.
 */
import { parse, printJson, UsageError } from './io.js';
import { stderrLines } from '../node/stderr.js';

export async function upload(argv: string[], usage: string): Promise<number> {
  const { values: o, positionals } = parse(
    argv,
    {
      image: { type: 'string' }, 'storage-url': { type: 'string' }, 'storage-account-id': { type: 'string' }, gallery: { type: 'string' },
      definition: { type: 'string' }, version: { type: 'string' }, region: { type: 'string', multiple: true }, location: { type: 'string' },
      json: { type: 'boolean' },
    },
    usage,
  );
  const need = ['image', 'storage-url', 'storage-account-id', 'gallery', 'definition', 'version'] as const;
  const lacking = need.filter((k) => !o[k]);
  if (lacking.length || !o.region?.length || positionals.length) throw new UsageError(`missing --${[...lacking, ...(o.region?.length ? [] : ['region'])].join(', --')}\nusage: ${usage}`);
  const [{ uploadImage }, { ArmClient }, { parseContainerUrl, storageAuthFromEnv }] = await Promise.all([
    import('../launcher/image-upload.js'), import('../launcher/arm.js'), import('../launcher/blob.js'),
  ]);
  let storage;
  try {
    storage = parseContainerUrl(o['storage-url']!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const log = stderrLines('aicert image upload: ');
  const r = await uploadImage({
    imageDir: o.image!, storage, storageAuth: await storageAuthFromEnv(), storageAccountId: o['storage-account-id']!, galleryId: o.gallery!,
    definition: o.definition!, version: o.version!, regions: o.region, ...(o.location ? { location: o.location } : {}), arm: new ArmClient({ log }), log,
  });
  if (o.json) printJson({ ok: true, image_id: r.imageId, blob_url: r.blobUrl, definition_id: r.definitionId });
  else process.stdout.write(`image_id: ${r.imageId}\n`);
  return 0;
}
