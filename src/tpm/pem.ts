/**
 * The one PEM reader (spec/ak-certificates.md §PEM): every PEM text the project reads (certificates, AK public keys,
 * trust roots) goes through `readPem`. It walks the text once with indexOf from a position that only moves forward,
 * so its cost is linear in the text, and it refuses any text larger than MAX_PEM_TEXT before looking at it.
 */
import { MalformedInputError } from '../errors.js';
import { tryFromBase64 } from '../util/bytes.js';

/** Largest PEM text read (characters): far above any certificate chain or key, small enough to bound the work. */
export const MAX_PEM_TEXT = 1024 * 1024;

/** One decoded block: its label (e.g. CERTIFICATE, PUBLIC KEY) and its DER bytes. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';
const LABEL = /^[A-Z0-9]+(?: [A-Z0-9]+)*$/;
const BODY = /^[A-Za-z0-9+/=\s]*$/;

// RFC 7468 §2 (general considerations) https://www.rfc-editor.org/rfc/rfc7468#section-2
/**
 * Every PEM block of a text, in order. Text between blocks may hold anything but five dashes (an unterminated or
 * broken block is an error, never skipped); labels must match; bodies are base64 with whitespace; no block is an error.
 */
export function readPem(text: string, path: string): PemBlock[] {
  const bad = (why: string, offset?: number): never => {
    throw new MalformedInputError(why, offset === undefined ? { path } : { path, offset });
  };
  if (text.length > MAX_PEM_TEXT) bad(`PEM text larger than ${MAX_PEM_TEXT} characters`);
  const out: PemBlock[] = [];
  let i = 0;
  for (;;) {
    // The next block's start; text before it must not hold a dashed line of its own.
    const b = text.indexOf(BEGIN, i);
    const stray = text.indexOf(DASHES, i);
    if (stray !== -1 && stray !== b) bad('unterminated or malformed PEM block', stray);
    if (b === -1) break;
    // The label ends at the next five dashes; it is short and of the RFC's characters.
    const labelEnd = text.indexOf(DASHES, b + BEGIN.length);
    if (labelEnd === -1) bad('unterminated PEM BEGIN line', b);
    const label = text.slice(b + BEGIN.length, labelEnd);
    if (label.length > 64 || !LABEL.test(label)) bad('malformed PEM label', b);
    // The body runs to the END line, which must carry the same label.
    const e = text.indexOf(END, labelEnd + DASHES.length);
    if (e === -1) bad(`no END line for PEM block "${label}"`, b);
    if (!text.startsWith(`${label}${DASHES}`, e + END.length)) bad(`PEM END label does not match "${label}"`, e);
    const body = text.slice(labelEnd + DASHES.length, e);
    const der = BODY.test(body) ? tryFromBase64(body) : undefined;
    if (!der || der.length === 0) bad(`invalid base64 in PEM block ${out.length}`, labelEnd + DASHES.length);
    out.push({ label, der: der! });
    i = e + END.length + label.length + DASHES.length;
  }
  if (out.length === 0) bad('no PEM block found');
  return out;
}

/** True when the text holds a PEM BEGIN marker (the cheap test callers use to tell PEM from other encodings). */
export function hasPemBlock(text: string): boolean {
  return text.includes(BEGIN);
}
