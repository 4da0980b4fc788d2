import picomatch from 'picomatch';

/**
 * Glob patterns over store keys: `*` any run of characters but `/`, `?` one such
 * character, `[abc]`/`[a-z]` classes and `[!abc]` negation, `**` as a whole segment
 * for any number of segments (`a/**\/*.csv` matches `a/x.csv` and `a/b/c/x.csv`).
 * Matching is case-sensitive and anchored to the whole key. Braces, parentheses and
 * a leading `!` have no special meaning.
 */

const OPTIONS: picomatch.PicomatchOptions = {
  dot: true,
  nobrace: true,
  noextglob: true,
  nonegate: true,
  strictSlashes: true,
};

export type Matcher = (key: string) => boolean;

/** Compiles a glob pattern; a `**` glued to other text is refused with a RangeError. */
export function compileGlob(pattern: string): Matcher {
  if (typeof pattern !== 'string') throw new TypeError(`glob pattern must be a string, got ${typeof pattern}`);
  if (pattern.includes('\0')) throw new RangeError('glob pattern contains a NUL byte');
  for (const segment of pattern.split('/')) {
    if (segment.includes('**') && segment !== '**') {
      throw new RangeError(`Invalid glob pattern '${pattern}': '**' must be a whole path segment`);
    }
  }
  // picomatch spells class negation `[^…]`; fnmatch-style `[!…]` is what users of the Python library write.
  return picomatch(pattern.replace(/\[!/g, '[^'), OPTIONS);
}

/** True when the pattern has no wildcard at all. */
export function isLiteral(pattern: string): boolean {
  return !/[*?[]/.test(pattern);
}

/**
 * The longest leading run of whole literal segments, which a listing can start
 * from. A pattern of only literal segments gives its parent folder.
 */
export function literalPrefix(pattern: string): string {
  const segments = pattern.split('/').filter((s) => s !== '');
  const literal: string[] = [];
  for (const s of segments) {
    if (!isLiteral(s)) break;
    literal.push(s);
  }
  if (literal.length === segments.length) literal.pop();
  return literal.join('/');
}
