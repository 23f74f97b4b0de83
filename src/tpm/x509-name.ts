/** Distinguished names: DER Name -> display string ("C=US, O=Example, CN=Name"), in encoding order. */
import { MalformedInputError } from '../errors.js';
import { toHex } from '../util/bytes.js';
import { decodeOid, decodeString, readTlv, readTlvs } from './x509-der.js';

/** Short names for the attribute types seen in TPM, Azure and GCE certificates; others print as dotted OIDs. */
const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

/** RFC 4514 §2.4 escaping of an attribute value (the characters OpenSSL's esc_2253 escapes). */
function escapeValue(v: string): string {
  let s = v.replace(/[\\,+"<>;]/g, (c) => `\\${c}`);
  if (s.startsWith('#') || s.startsWith(' ')) s = `\\${s}`;
  if (s.endsWith(' ') && s.length > 1) s = `${s.slice(0, -1)}\\ `;
  return s;
}

// RFC 5280 §4.1.2.4 (Name) https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.4
/**
 * Renders a DER Name in encoding order: RDNs joined with ", ", multi-valued RDNs with " + ", short names as
 * OpenSSL prints them (`-nameopt sep_comma_plus_space,sname,esc_2253,utf8`). An empty Name renders as "".
 */
export function formatName(der: Uint8Array, path: string): string {
  const rdns = readTlvs(readTlv(der, path, 0x30).body, path);
  const out: string[] = [];
  for (const rdn of rdns) {
    if (rdn.tag !== 0x31) throw new MalformedInputError('RelativeDistinguishedName must be a SET', { path });
    const atvs = readTlvs(rdn.body, path);
    if (atvs.length === 0) throw new MalformedInputError('empty RelativeDistinguishedName', { path });
    const parts = atvs.map((atv) => {
      const [type, value, ...rest] = atv.tag === 0x30 ? readTlvs(atv.body, path) : [];
      if (!type || !value || rest.length || type.tag !== 0x06) {
        throw new MalformedInputError('AttributeTypeAndValue must be SEQUENCE { OID, value }', { path });
      }
      const oid = decodeOid(type.body, path);
      const text = decodeString(value.tag, value.body);
      // Values that are not strings print as #hex of their DER, as RFC 4514 §2.4 says.
      return `${SHORT[oid] ?? oid}=${text === undefined ? `#${toHex(value.full)}` : escapeValue(text)}`;
    });
    out.push(parts.join(' + '));
  }
  return out.join(', ');
}

/** The values of every attribute of the given type, in order (e.g. all CNs). */
export function nameValues(der: Uint8Array, oid: string, path: string): string[] {
  const vals: string[] = [];
  for (const rdn of readTlvs(readTlv(der, path, 0x30).body, path)) {
    for (const atv of readTlvs(rdn.body, path)) {
      const [type, value] = readTlvs(atv.body, path);
      if (type && value && decodeOid(type.body, path) === oid) {
        const t = decodeString(value.tag, value.body);
        if (t !== undefined) vals.push(t);
      }
    }
  }
  return vals;
}

/** Every string-valued attribute of a Name, in encoding order, with its OID and short name (e.g. `CN`). */
export function nameAttributes(der: Uint8Array, path: string): { oid: string; type: string; value: string }[] {
  const out: { oid: string; type: string; value: string }[] = [];
  for (const rdn of readTlvs(readTlv(der, path, 0x30).body, path)) {
    for (const atv of readTlvs(rdn.body, path)) {
      const [type, value] = readTlvs(atv.body, path);
      if (!type || !value) continue;
      const oid = decodeOid(type.body, path);
      const t = decodeString(value.tag, value.body);
      if (t !== undefined) out.push({ oid, type: SHORT[oid] ?? oid, value: t });
    }
  }
  return out;
}

/** The OID of a short attribute name (`CN`, `O`, ...) or of a dotted OID; undefined when unknown. */
export function attributeOid(name: string): string | undefined {
  if (/^\d+(?:\.\d+)+$/.test(name)) return name;
  return Object.keys(SHORT).find((k) => SHORT[k]!.toLowerCase() === name.toLowerCase());
}
