/** aicert/launcher: the Azure fine-tune flow (not yet available in this release). */
export {};
