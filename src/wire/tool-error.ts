/**
 * ToolError: a tool, process, file or peer that the launcher or the runner depends on failed (spec/launcher.md
 * §Errors). Not a verdict on evidence (that is VerificationError) and not a config problem (ConfigError): `code` is
 * stable, from the closed set TOOL_ERROR_CODES; the message is for people. The CLI maps it to exit 2.
 */
export const TOOL_ERROR_CODES = [
  'INPUT_MISSING', // a file or folder the caller named does not exist or is not what it should be
  'FILE_CHANGED', // a file became shorter while it was read
  'IMAGE_INVALID', // an image folder's manifest and disk do not agree
  'IMAGE_BUILD_FAILED', // image/build.sh or its reference boot failed
  'REFERENCE_BOOT_MISMATCH', // the reference boot's event log, PCRs and prediction disagree
  'PROCESS_FAILED', // a child process (qemu, swtpm) exited early
  'VM_BOOT_FAILED', // the VM did not boot the image
  'TIMEOUT', // a process or peer did not answer in time
  'TRANSFER_CORRUPTED', // a file sent over the serial console arrived with another digest
  'ANSWER_TOO_LARGE', // a peer's answer exceeded its size bound
  'ANSWER_CUT', // a peer's answer stopped before its end
  'HTTP_STATUS', // a peer answered an unexpected HTTP status
  'CERTIFICATE_MISSING', // the runner presented no TLS certificate
  'STORAGE_REFUSED', // the storage container is missing and cannot be made
  'UPLOAD_MISMATCH', // what storage holds after an upload is not what was sent
  'PCR_IN_USE', // the runner's PCRs already hold measurements it did not make
  'HCL_REPORT_UNREADABLE', // the vTPM NV index with the HCL report could not be read
  'IMDS_UNAVAILABLE', // the instance metadata service gave no user data
  'THIM_ANSWER_INVALID', // an IMDS/THIM answer (VCEK, TD quote) is malformed or does not fit this VM's hardware report
  'ABORTED', // the flow ended and stopped its pending work
] as const;

export type ToolErrorCode = (typeof TOOL_ERROR_CODES)[number];

export class ToolError extends Error {
  override name = 'ToolError';
  readonly code: ToolErrorCode;
  constructor(code: ToolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
