// image/vhd-footer.mjs FILE EPOCH — pins the two fields of a fixed VHD's footer that qemu-img fills from the clock and
// a random source (time stamp, unique id) and recomputes its checksum; checks the footer first.
// Layout: Microsoft "Virtual Hard Disk Image Format Specification" 1.0, Hard Disk Footer Format (512 bytes, big-endian).
import { openSync, readSync, writeSync, fstatSync, closeSync } from 'node:fs';

const [file, epoch] = process.argv.slice(2);
const fd = openSync(file, 'r+');
const size = fstatSync(fd).size;
const f = Buffer.alloc(512);
readSync(fd, f, 0, 512, size - 512);
// cookie "conectix", disk type 2 (fixed), current size = file size minus the footer
if (f.toString('latin1', 0, 8) !== 'conectix') throw new Error(`${file}: no VHD footer`);
if (f.readUInt32BE(60) !== 2) throw new Error(`${file}: not a fixed VHD (disk type ${f.readUInt32BE(60)})`);
if (f.readBigUInt64BE(48) !== BigInt(size - 512)) throw new Error(`${file}: footer size ${f.readBigUInt64BE(48)} != ${size - 512}`);
// time stamp: seconds since 2000-01-01T00:00:00Z
f.writeUInt32BE(Number(epoch) - 946684800, 24);
// unique id: fixed (the disk's GPT GUIDs are fixed too)
Buffer.from('a1ce00000000400080000000000000a3', 'hex').copy(f, 68);
// checksum: ones' complement of the byte sum with the checksum field zeroed
f.writeUInt32BE(0, 64);
let sum = 0;
for (const b of f) sum += b;
f.writeUInt32BE(~sum >>> 0, 64);
writeSync(fd, f, 0, 512, size - 512);
closeSync(fd);
