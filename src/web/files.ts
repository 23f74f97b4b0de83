/**
 * The page's weight check: the files the user picked, compared with the bound outputs (spec/cli.md §Model folders,
 * as `--model`). A file whose path is a bound output must have its digest; a loose file with another name may stand
 * for one output not yet matched, by content (as a single file named on the CLI); a conventional file (README,
 * .gitattributes…) is listed, not hashed; anything else is "not bound". Files of a picked folder are named by their
 * path below it, are bound by name only, and then every bound output must be there.
 */
import type { ArtifactReport, ArtifactVerifier } from '../aibom/types.js';
import type { FilesReport } from '../aibom/verdict.js';
import { conventionalFileReason } from '../hub/conventions.js';

export interface GivenFile {
  /** Path below the picked folder, or the file's own name. */
  name: string;
  file: Blob;
}

/** The report of the page (FilesReport plus the per-output result for the ID card). */
export interface WebFilesReport extends FilesReport {
  ok: boolean;
  matched: { name: string }[];
  missing: string[];
  extra: { name: string }[];
  mismatched: { name: string }[];
  conventional: { name: string; reason: string }[];
  /** Bound output name -> ✓ matched, ✗ mismatched or missing from a folder, – not given. */
  outputs: Map<string, 'match' | 'mismatch' | 'missing' | 'not given'>;
}

/** The path of a file picked in a folder (webkitRelativePath without its first segment), else its name. */
export function givenName(f: File): string {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  return rel && rel.includes('/') ? rel.slice(rel.indexOf('/') + 1) : f.name;
}

/** Compares the given files with `expected`, hashing only what could match. */
export async function compareFiles(
  expected: readonly { name: string; sha256: string }[],
  given: readonly GivenFile[],
  requireAll: boolean,
  hashAll: (files: GivenFile[]) => Promise<Map<string, string>>,
): Promise<WebFilesReport> {
  const bound = new Map(expected.map((e) => [e.name, e.sha256.toLowerCase()]));
  const byDigest = new Map<string, string[]>();
  for (const [n, d] of bound) byDigest.set(d, [...(byDigest.get(d) ?? []), n]);
  const rep: WebFilesReport = { ok: false, requireAll, matched: [], missing: [], extra: [], mismatched: [], conventional: [], outputs: new Map() };
  // files that are not outputs by convention are listed, never hashed
  const toHash: GivenFile[] = [];
  for (const g of given) {
    const why = bound.has(g.name) ? undefined : conventionalFileReason(g.name);
    if (why) rep.conventional.push({ name: g.name, reason: why });
    else toHash.push(g);
  }
  // A folder's files are bound by name only, as the CLI's --model DIR: an unbound name there is extra, never hashed.
  const named = toHash.filter((g) => bound.has(g.name) || !requireAll);
  for (const g of toHash) if (!bound.has(g.name) && requireAll) rep.extra.push({ name: g.name });
  const digests = await hashAll(named);
  // Step 1: a file at a bound name must have that name's digest.
  for (const g of named) {
    const want = bound.get(g.name);
    if (want === undefined) continue;
    const ok = digests.get(g.name) === want;
    (ok ? rep.matched : rep.mismatched).push({ name: g.name });
    rep.outputs.set(g.name, ok ? 'match' : 'mismatch');
  }
  // Step 2: a loose file with an unbound name may stand for one output not yet matched, by content (as the CLI's single files).
  for (const g of named) {
    if (bound.has(g.name)) continue;
    const n = byDigest.get(digests.get(g.name)!)?.find((o) => !rep.outputs.has(o));
    if (n === undefined) rep.extra.push({ name: g.name });
    else {
      rep.matched.push({ name: g.name });
      rep.outputs.set(n, 'match');
    }
  }
  for (const n of bound.keys()) if (!rep.outputs.has(n)) rep.missing.push(n);
  for (const n of rep.missing) rep.outputs.set(n, requireAll ? 'missing' : 'not given');
  rep.ok = rep.matched.length > 0 && !rep.mismatched.length && !rep.extra.length && (!requireAll || !rep.missing.length);
  return rep;
}

/** An `artifacts` callback for verifyAibom over the given files; `onReport` receives the page's report. */
export function filesVerifier(given: readonly GivenFile[], requireAll: boolean, hashAll: (f: GivenFile[]) => Promise<Map<string, string>>, onReport: (r: WebFilesReport) => void): ArtifactVerifier {
  return async (expected): Promise<ArtifactReport> => {
    const r = await compareFiles(expected, given, requireAll, hashAll);
    onReport(r);
    const missing = requireAll ? [] : [...r.missing];
    // a folder stands for the whole model: a missing output is a mismatch of the folder
    const mismatched = [...r.mismatched.map((m) => m.name), ...(requireAll ? r.missing.map((n) => `${n} (missing)`) : [])];
    return { ok: r.ok, matched: r.matched.map((m) => m.name), missing, extra: r.extra.map((m) => m.name), mismatched };
  };
}
