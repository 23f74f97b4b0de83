/**
 * Hugging Face Hub references pinned to a commit: `ORG/NAME@REV` (a model) or `datasets/ORG/NAME@REV` (a dataset),
 * where REV is the full 40-hex commit id. A branch or tag names a commit that can move, so it pins nothing and is
 * refused. Spec: spec/hub.md §1.
 */
import { MalformedInputError } from '../errors.js';

export type HubRepoKind = 'model' | 'dataset';

/** A repository at one commit. */
export interface HubRef {
  kind: HubRepoKind;
  /** `ORG/NAME`. */
  repo: string;
  /** 40 lowercase hex digits. */
  revision: string;
}

/** One path segment of a repository id, as the Hub allows them (letters, digits, `-`, `_`, `.`; at most 96). */
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** True for a valid `ORG/NAME` (no `..`, no leading/trailing `.`, bounded). */
export function isRepoId(repo: unknown): repo is string {
  if (typeof repo !== 'string') return false;
  const parts = repo.split('/');
  return parts.length === 2 && parts.every((p) => SEGMENT.test(p) && !p.includes('..'));
}

/** True for a full lowercase 40-hex commit id. */
export function isCommitId(rev: unknown): boolean {
  return typeof rev === 'string' && COMMIT.test(rev);
}

/** Parses `ORG/NAME@REV` or `datasets/ORG/NAME@REV`; MalformedInputError (path `where`) says what is wrong. */
export function parseHubRef(text: string, where = 'hf'): HubRef {
  if (typeof text !== 'string') throw new TypeError('a Hub reference must be a string');
  const show = JSON.stringify(text.slice(0, 200));
  const bad = (why: string): never => {
    throw new MalformedInputError(`Hub reference ${show}: ${why}`, { path: where });
  };
  if (text.length > 300) bad('too long');
  const at = text.lastIndexOf('@');
  if (at < 0) bad('no @REV: pin the full 40-hex commit, e.g. ORG/NAME@0123…(40 hex)');
  let name = text.slice(0, at);
  const rev = text.slice(at + 1);
  let kind: HubRepoKind = 'model';
  if (name.startsWith('datasets/')) {
    kind = 'dataset';
    name = name.slice('datasets/'.length);
  } else if (name.startsWith('models/')) name = name.slice('models/'.length);
  else if (name.startsWith('spaces/')) bad('Spaces are not model or dataset repositories');
  if (!isRepoId(name)) bad('the repository must be ORG/NAME (letters, digits, "-", "_", ".")');
  if (!isCommitId(rev)) {
    if (/^[0-9a-fA-F]{40}$/.test(rev)) bad('the commit id must be lowercase hex');
    if (/^[0-9a-f]{7,39}$/.test(rev)) bad(`"${rev}" is an abbreviated commit: give all 40 hex digits`);
    bad(`"${rev.slice(0, 60)}" is not a commit id: a branch or tag can move, so it pins nothing; give the full 40-hex commit`);
  }
  return { kind, repo: name, revision: rev };
}

/** `ORG/NAME@REV` or `datasets/ORG/NAME@REV`. */
export function formatHubRef(ref: HubRef): string {
  return `${ref.kind === 'dataset' ? 'datasets/' : ''}${ref.repo}@${ref.revision}`;
}
