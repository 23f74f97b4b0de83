/**
 * UEFI device path decoder (text form close to the UEFI 2.10 §10.6 Device Path to Text conventions).
 * UEFI 2.10 §10.3 Device Path Nodes https://uefi.org/specs/UEFI/2.10/10_Protocols_Device_Path_Protocol.html
 * Hostile input: every node length is bounded by the bytes left, and the number of nodes is capped.
 */
import { Reader } from '../tpm/reader.js';
import { toHex } from '../util/bytes.js';
import { guidToString, utf16le } from './decode-util.js';

/** Maximum number of nodes decoded in one device path (a flat list; real paths have fewer than 16). */
export const MAX_DEVICE_PATH_NODES = 64;

/** One decoded node. */
export interface DevicePathNode {
  type: number;
  subType: number;
  text: string;
}

/** A decoded device path: its nodes and the joined text (`PciRoot(0x0)/Pci(0x1,0x0)/…`). */
export interface DevicePath {
  text: string;
  nodes: DevicePathNode[];
}

const hx = (n: number | bigint) => '0x' + n.toString(16);
const BBS_TYPES: Record<number, string> = { 1: 'Floppy', 2: 'HD', 3: 'CDROM', 4: 'PCMCIA', 5: 'USB', 6: 'Network' };

/** Decodes one node body into text; unknown nodes keep their raw bytes in hex. */
function nodeText(type: number, sub: number, body: Reader): string {
  const raw = () => `Path(${type},${sub},${toHex(body.bytes)})`;
  // Hardware device paths
  if (type === 1 && sub === 1) {
    const fn = body.u8('function');
    const dev = body.u8('device');
    return `Pci(${hx(dev)},${hx(fn)})`;
  }
  if (type === 1 && sub === 3) return `MemoryMapped(${body.u32le('memType')},${hx(body.u64le('start'))},${hx(body.u64le('end'))})`;
  if ((type === 1 && sub === 4) || (type === 3 && sub === 10) || (type === 4 && sub === 3)) {
    const guid = guidToString(body.bytesN(16, 'vendorGuid'));
    const prefix = type === 1 ? 'VenHw' : type === 3 ? 'VenMsg' : 'VenMedia';
    const rest = body.bytesN(body.remaining, 'vendorData');
    return rest.length ? `${prefix}(${guid},${toHex(rest)})` : `${prefix}(${guid})`;
  }
  // ACPI device paths
  if (type === 2 && sub === 1) {
    const hid = body.u32le('HID');
    const uid = body.u32le('UID');
    if (hid === 0x0a0341d0) return `PciRoot(${hx(uid)})`;
    if (hid === 0x0a0841d0) return `PcieRoot(${hx(uid)})`;
    return `Acpi(${hx(hid)},${hx(uid)})`;
  }
  // Messaging device paths
  if (type === 3 && sub === 2) return `SCSI(${body.u16le('target')},${body.u16le('lun')})`;
  if (type === 3 && sub === 5) return `USB(${hx(body.u8('port'))},${hx(body.u8('interface'))})`;
  if (type === 3 && sub === 11) {
    const mac = body.bytesN(32, 'mac');
    return `MAC(${toHex(mac.subarray(0, 6))},${body.u8('ifType')})`;
  }
  if (type === 3 && sub === 12) {
    const local = Array.from(body.bytesN(4, 'local')).join('.');
    const remote = Array.from(body.bytesN(4, 'remote')).join('.');
    body.skip(4, 'ports');
    const proto = body.u16le('protocol');
    const isStatic = body.u8('staticIp');
    return `IPv4(${remote},${proto},${isStatic},${local})`;
  }
  if (type === 3 && sub === 18) return `Sata(${body.u16le('hba')},${body.u16le('pm')},${body.u16le('lun')})`;
  if (type === 3 && sub === 23) return `NVMe(${hx(body.u32le('nsid'))},${toHex(body.bytesN(8, 'eui64'))})`;
  if (type === 3 && sub === 24) return `Uri(${new TextDecoder().decode(body.bytesN(body.remaining, 'uri'))})`;
  // Media device paths
  if (type === 4 && sub === 1) {
    const part = body.u32le('partition');
    const start = body.u64le('start');
    const size = body.u64le('size');
    const sig = body.bytesN(16, 'signature');
    const fmt = body.u8('format');
    const sigType = body.u8('sigType');
    const sigText = sigType === 2 ? guidToString(sig) : sigType === 1 ? hx((sig[0]! | (sig[1]! << 8) | (sig[2]! << 16) | (sig[3]! << 24)) >>> 0) : '0';
    const kind = sigType === 2 ? 'GPT' : sigType === 1 ? 'MBR' : String(fmt);
    return `HD(${part},${kind},${sigText},${hx(start)},${hx(size)})`;
  }
  if (type === 4 && sub === 2) return `CDROM(${hx(body.u32le('entry'))},${hx(body.u64le('start'))},${hx(body.u64le('size'))})`;
  if (type === 4 && sub === 4) return `File(${utf16le(body.bytesN(body.remaining, 'path'))})`;
  if (type === 4 && sub === 6) return `FvFile(${guidToString(body.bytesN(16, 'file'))})`;
  if (type === 4 && sub === 7) return `FvVol(${guidToString(body.bytesN(16, 'fv'))})`;
  if (type === 4 && sub === 8) {
    body.skip(4, 'reserved');
    return `Offset(${hx(body.u64le('start'))},${hx(body.u64le('end'))})`;
  }
  if (type === 5 && sub === 1) {
    const dt = body.u16le('deviceType');
    const flags = body.u16le('statusFlag');
    const desc = new TextDecoder().decode(body.bytesN(body.remaining, 'description')).replace(/\0+$/, '');
    return `BBS(${BBS_TYPES[dt] ?? hx(dt)},${desc},${hx(flags)})`;
  }
  return raw();
}

/**
 * Decodes a device path (a node list ending with End Entire Device Path 0x7F/0xFF).
 * Throws MalformedInputError for truncated nodes or too many nodes; unknown nodes are kept as raw hex.
 */
export function decodeDevicePath(bytes: Uint8Array, base = 0): DevicePath {
  const r = new Reader(bytes, 'DevicePath', base);
  const nodes: DevicePathNode[] = [];
  while (r.remaining > 0) {
    // Cap the node count so a hostile path cannot make the decoder loop for long.
    if (nodes.length >= MAX_DEVICE_PATH_NODES) r.fail(`more than ${MAX_DEVICE_PATH_NODES} nodes`);
    const at = r.offset;
    const type = r.u8('type');
    const subType = r.u8('subType');
    const len = r.u16le('length');
    if (len < 4) r.fail(`node length ${len} < 4`, at);
    const body = r.sub(len - 4, 'DevicePath.node');
    if (type === 0x7f && subType === 0xff) break;
    if (type === 0x7f && subType === 0x01) {
      nodes.push({ type, subType, text: ',' });
      continue;
    }
    let t: string;
    try {
      t = nodeText(type, subType, body);
    } catch {
      t = `Path(${type},${subType},${toHex(body.bytes)})`;
    }
    nodes.push({ type, subType, text: t });
  }
  const text = nodes.map((n) => n.text).join('/').replace(/\/,\//g, ',');
  return { text, nodes };
}
