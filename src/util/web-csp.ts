/**
 * The Content-Security-Policy of the verifier page (spec/cli.md §aicert serve): the page's own module, worker and
 * style only, no inline code, no frames, no forms; connections to its own origin and to a Hub endpoint the user
 * names (https, or plain http on loopback as the Hub client allows). Put in index.html as a meta tag at build time
 * and sent as a header by `aicert serve`.
 */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
