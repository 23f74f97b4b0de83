/** aicert/eventlog: parse, replay and verify event logs. Parsed logs are untrusted until verifyLog() matched a quote. */
export type { EventDigest, EventLog, LogEvent, LogFormat, PcrBanks } from './types.js';
export { parseTcgLog, type TcgParseOptions } from './tcg.js';
export { TCG_EV, eventTypeName, MAX_PCR } from './names.js';
export { decodeEventData } from './decode.js';
export { decodeDevicePath, MAX_DEVICE_PATH_NODES, type DevicePath, type DevicePathNode } from './devicepath.js';
export { parseSpecId, type SpecIdEvent } from './tcg-specid.js';
export { replay, initialPcrValue, type ReplayOptions } from './replay.js';
export { eventCount, iterEvents } from './store.js';
export { verifyLog, type VerifyLogOptions, type LogVerification, type PcrVerdict, type PolicyFinding } from './verify.js';
export type { FindingCode } from './verify-findings.js';
export { compareLog, type LogComparison, type PcrComparison, type ComparisonStatus } from './compare.js';
export { exitBootServicesCandidates, type WorkaroundName } from './workarounds.js';
// Other formats (CEL, IMA, aicert JSON).
export { parseCelJson, parseCelJsonSeq } from './cel-json.js';
export { parseCelTlv } from './cel-tlv.js';
export { parseCelCbor } from './cel-cbor.js';
export { parseImaLog, type ImaOptions } from './ima.js';
export { parseAicertJson, type AicertJsonOptions } from './aicert-json.js';
export { parseEventLog, type ParseEventLogOptions, type DetectorName, type UnrecognisedLogError } from './detect.js';
// Golden values from a UKI image (PE/COFF Authenticode, systemd-stub and kernel-stub measurements).
export { parsePe, authenticodeHash, hashedSections, findSection, sectionData, type PeImage } from './pe.js';
export { predictPcrs, utf16leZ, STUB_252_SECTIONS, UKI_SPEC_SECTIONS, type PcrPrediction } from './predict.js';
// Confidential VMs: CCMR records of CEL-TLV and ASCII IMA lists (spec/confidential-vms.md §10).
export { replayCcmr, compareRtmrs, ccmrName, CEL_CCMR_TYPE } from './cel-ccmr.js';
export { parseImaAscii, isImaAscii } from './ima-ascii.js';
