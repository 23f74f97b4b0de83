/**
 * `--ignore GLOB` patterns over POSIX relative paths (spec/cli.md §Model folders): `*` and `?` stay within one path
 * segment, `**` spans segments (`**\/` also matches no segment), `[abc]`/`[!a-z]` are classes, `\x` is a literal x.
 * A pattern without `/` matches the last segment anywhere in the tree (as .gitignore does).
 */

/** Longest pattern accepted (a pattern is user input, but bounded all the same). */
const MAX_PATTERN = 1024;

/** Compiles one glob into an anchored regular expression; throws TypeError on a malformed pattern. */
export function globToRegExp(glob: string): RegExp {
  if (typeof glob !== 'string' || glob.length === 0 || glob.length > MAX_PATTERN) throw new TypeError('a glob must be a non-empty string of at most 1024 characters');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a trailing `**` matches the rest of the path
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:[^/]*(?:/|$))*' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new TypeError(`unclosed '[' in glob ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, end);
      const neg = body.startsWith('!') || body.startsWith('^');
      if (neg) body = body.slice(1);
      re += `[${neg ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else re += escapeRe(c);
  }
  const anchored = glob.includes('/') ? `^${re.replace(/^\//, '')}$` : `^(?:.*/)?${re}$`;
  return new RegExp(anchored, 'u');
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** One predicate for several globs: true when any matches the path. */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  const res = globs.map(globToRegExp);
  return (path) => res.some((r) => r.test(path));
}
