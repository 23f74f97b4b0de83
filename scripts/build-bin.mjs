// Builds the CLI for fast start-up (run by `npm run build` after tsup):
// - dist/bin/aicert.js and aicert-verify.js: small CommonJS launchers (help, --version, which command to run);
// - dist/bin/cmd-NAME.cjs: one self-contained CommonJS bundle per subcommand, loaded by the launcher through
//   vm.Script with a V8 code cache (scripts/code-cache.mjs writes it, src/cli/bundle-loader.ts checks it).
// Only the optional Azure SDKs, yaml and @huggingface/hub stay outside the bundles: they load when a command uses them.
// cbor-x is taken in its pure JavaScript form, so a start-up never looks for or loads a native addon.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `node scripts/build-bin.mjs [OUT]`: OUT defaults to dist/bin (tests build into a private folder).
const out = resolve(process.argv[2] ?? join(root, 'dist', 'bin'));
// The command list is the one in src/cli/dispatch.ts (COMMAND_NAMES), read from its source so the two cannot drift.
const names = /COMMAND_NAMES = \[([^\]]*)\]/.exec(readFileSync(join(root, 'src', 'cli', 'dispatch.ts'), 'utf8'));
if (!names) throw new Error('build-bin: COMMAND_NAMES not found in src/cli/dispatch.ts');
const COMMANDS = [...names[1].matchAll(/'([a-z]+)'/g)].map((m) => m[1]);

// The bundles are CommonJS: import.meta.url becomes the bundle's own file URL.
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
  keepNames: true,
  external: ['@azure/*', '@huggingface/hub', 'yaml'],
  define: { 'import.meta.url': '__aicertImportMetaUrl' },
  plugins: [
    {
      name: 'cbor-x-pure-js',
      setup(b) {
        b.onResolve({ filter: /^cbor-x$/ }, () => ({ path: join(root, 'node_modules', 'cbor-x', 'index.js') }));
      },
    },
  ],
};
const metaUrl = 'var __aicertImportMetaUrl = require("node:url").pathToFileURL(__filename).href;';

// Step 1: the launchers (plain CommonJS files, run by node directly).
await build({
  ...common,
  entryPoints: { aicert: join(root, 'bin', 'aicert.ts'), 'aicert-verify': join(root, 'bin', 'aicert-verify.ts') },
  outdir: out,
  banner: { js: metaUrl }, // the shebang comes from bin/*.ts
});
// dist/bin holds CommonJS .js files inside an ESM package.
writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');

// Step 2: one bundle per command, exporting main(argv) = the command run with the CLI's error mapping.
const cli = join(root, 'src', 'cli');
await Promise.all(
  COMMANDS.map((name) =>
    build({
      ...common,
      stdin: {
        contents: `import * as m from './cmd-${name}.js';\nimport { runCommand } from './run-command.js';\nexport const main = (argv) => runCommand(${JSON.stringify(name)}, argv, async () => m);\n`,
        resolveDir: cli,
        sourcefile: `cmd-${name}-bundle.js`,
        loader: 'js',
      },
      outfile: join(out, `cmd-${name}.cjs`),
      minifyWhitespace: true,
      minifySyntax: true,
      banner: { js: metaUrl },
    }),
  ),
);
