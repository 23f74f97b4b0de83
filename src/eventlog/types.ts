/** Shared types for every event-log format aicert reads. Parsed is not trusted: see verifyLog. */

/** Formats aicert can read. */
export type LogFormat =
  | 'tcg-pcclient-sha1'
  | 'tcg-pcclient-crypto-agile'
  | 'cel-json'
  | 'cel-json-seq'
  | 'cel-tlv'
  | 'cel-cbor'
  | 'ima'
  | 'ima-ascii'
  | 'aicert-json';

/** One digest of an event, in one PCR bank. */
export interface EventDigest {
  /** TPM_ALG_ID of the bank (0x000b = sha256). */
  alg: number;
  /** The digest that is extended into the PCR (for IMA, already the all-0xFF substitute where the kernel uses it). */
  digest: Uint8Array;
}

/** One event as parsed. Its `type` is NOT covered by any digest: never trust it for policy. */
export interface LogEvent {
  /** 0-based position in the log (including EV_NO_ACTION events). */
  index: number;
  pcr: number;
  /** Event type (TCG EV_* value, or a format-specific number), untrusted. */
  type: number;
  /** Name of the type (EV_SEPARATOR, ima-ng, systemd, aicert-json ...). */
  typeName: string;
  digests: EventDigest[];
  /** Raw event data as stored in the log. */
  data: Uint8Array;
  /** Decoded event data for known types; shape depends on the type. */
  decoded?: unknown;
  /** Byte offset of the event in the input (or record number for text formats). */
  offset: number;
  /** True when this event is never extended (EV_NO_ACTION, CEL management records). */
  noExtend?: boolean;
}

/** A parsed (untrusted) event log. */
export interface EventLog {
  format: LogFormat;
  /** Banks the log promises (SpecID algorithms, or the banks its events carry). */
  banks: number[];
  events: LogEvent[];
  /** Non-fatal oddities found while parsing (e.g. a SpecID size that disagrees with vendorInfoSize). */
  warnings: string[];
  /** StartupLocality from the EV_NO_ACTION StartupLocality event, if any. */
  startupLocality?: number;
  /** True when an EV_EFI_HCRTM_EVENT is present in PCR 0. */
  hcrtm?: boolean;
}

/** Replayed PCR values: bank alg id -> PCR index -> value. */
export type PcrBanks = Map<number, Map<number, Uint8Array>>;
