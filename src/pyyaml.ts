import { isScalar, isSeq, Pair, parseDocument, type ScalarTag, type Tags, visit, YAMLSeq } from 'yaml';

/**
 * YAML read the way PyYAML's `yaml.safe_load` reads it, so that a registry config written for
 * the Python `remote-store` means the same here. The `yaml` package does the parsing with its
 * YAML 1.1 schema and merge keys; two adjustments make it agree with PyYAML:
 *
 * - Implicit scalars resolve as PyYAML's resolver resolves them. The package's 1.1 schema is
 *   wider: `y`/`n` are booleans there (strings in PyYAML), `1e3` and `-.5` are floats (strings:
 *   PyYAML's float needs a dot and a signed exponent), `09` is an integer (a string: not octal,
 *   and a decimal may not start with 0), `2024-1-5` is a date. Each implicit tag of the package
 *   is narrowed to what PyYAML's pattern for that type also accepts; its own conversion stays.
 * - Merge keys: PyYAML lets a later merge source win over an earlier one (in a `<<` list and
 *   across several `<<` keys of one mapping); the package (and the YAML merge spec) let the
 *   earlier one win. The sources are handed to the package in reverse order. Keys written in
 *   the mapping itself win over merged ones in both.
 *
 * Duplicate keys are allowed and the last one wins, as in PyYAML.
 */

/** PyYAML's implicit resolvers (`yaml/resolver.py`, YAML 1.1). */
const PYYAML = {
  bool: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  int: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  float:
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  timestamp:
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
} as const;

/** `both(a, b)` matches what `a` and `b` both match (`a` in a lookahead, anchored at the start). */
function both(pyyaml: RegExp, own: RegExp): RegExp {
  return new RegExp(`(?=${pyyaml.source})${own.source}`, own.flags);
}

function narrowToPyYaml(tags: Tags): Tags {
  return tags.map((tag) => {
    if (typeof tag !== 'object' || !(tag.test instanceof RegExp)) return tag;
    // By the tag, not the package's name for it: its sexagesimal `1:30` is an int (and `1:30.5` a float) filed with timestamps.
    const type = /^tag:yaml\.org,2002:(bool|int|float|timestamp)$/.exec(tag.tag)?.[1] as keyof typeof PYYAML | undefined;
    return type ? ({ ...tag, test: both(PYYAML[type], tag.test) } as ScalarTag) : tag;
  });
}

const MERGE = '<<';

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === MERGE;
}

/** One merge pair per mapping, its sources in reverse order of appearance (see above). */
function pythonMergeOrder(doc: ReturnType<typeof parseDocument>): void {
  visit(doc, {
    Map(_, map) {
      const merges = map.items.filter((pair) => isMergeKey(pair.key));
      if (merges.length === 0 || (merges.length === 1 && !isSeq(merges[0]!.value))) return;
      const sources = merges.flatMap((pair) => (isSeq(pair.value) ? pair.value.items : [pair.value]));
      const seq = new YAMLSeq(doc.schema);
      seq.items = sources.reverse();
      map.items = [new Pair(merges[0]!.key, seq), ...map.items.filter((pair) => !isMergeKey(pair.key))];
    },
  });
}

/** Parses one YAML document as PyYAML's `safe_load` does; throws the package's YAMLError. */
export function parsePyYaml(text: string): unknown {
  const doc = parseDocument(text, { version: '1.1', merge: true, uniqueKeys: false, customTags: narrowToPyYaml });
  if (doc.errors.length > 0) throw doc.errors[0];
  pythonMergeOrder(doc);
  return doc.toJS();
}

