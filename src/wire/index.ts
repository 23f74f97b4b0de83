/** The launcher ↔ runner wire module: protocol types and constants, config rules, launch userData. Both sides import it. */
export * from './protocol.js';
export * from './config.js';
export * from './launch.js';
export * from './upload.js';
