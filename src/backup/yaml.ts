/**
 * YAML for backup files. Writing: multi-document YAML that `kubectl create -f` accepts
 * (strings that YAML 1.1 would read as bools/numbers are quoted). Reading: a hostile-input
 * parser that refuses anchors, aliases and explicit tags (alias bombs, custom types) before
 * constructing anything, with the core schema only.
 */
import { CORE_SCHEMA, EVENT_ID, constructFromEvents, dump, parseEvents } from 'js-yaml';

/** Nesting deeper than this is refused (real objects stay far below). */
export const maxYamlDepth = 64;

/** One document per object, each starting with `---`. */
export function dumpDocuments(docs: readonly unknown[]): string {
  let out = '';
  for (const d of docs) out += '---\n' + dump(d, { noRefs: true, lineWidth: -1 });
  return out;
}

export class YamlRefused extends Error {}

/** 1-based line of a source offset, for error messages. */
function lineOf(source: string, offset: number, firstLine = 1): number {
  let line = firstLine;
  for (let i = 0; i < offset && i < source.length; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses a multi-document YAML source. Throws YamlRefused (with a line number) on an anchor,
 * an alias or an explicit tag; js-yaml's own errors (syntax, depth, duplicate keys) pass through.
 * Empty documents (a trailing `---`) are dropped.
 */
export function parseDocumentsSafe(source: string, filename: string, firstLine = 1): unknown[] {
  let events: ReturnType<typeof parseEvents>;
  try {
    events = parseEvents(source, { filename, maxDepth: maxYamlDepth });
  } catch (err) {
    if (firstLine === 1) throw err;
    throw new YamlRefused(`in the part starting at line ${firstLine}: ${(err as Error).message.split('\n')[0]}`);
  }
  for (const e of events) {
    if (e.type === EVENT_ID.ALIAS)
      throw new YamlRefused(
        `YAML alias at line ${lineOf(source, e.anchorStart, firstLine)}: aliases are refused (alias bombs)`,
      );
    if (e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      if (e.anchorStart !== -1)
        throw new YamlRefused(`YAML anchor at line ${lineOf(source, e.anchorStart, firstLine)}: anchors are refused`);
      if (e.tagStart !== -1)
        throw new YamlRefused(
          `YAML tag ${source.slice(e.tagStart, e.tagEnd)} at line ${lineOf(source, e.tagStart, firstLine)}: explicit tags are refused`,
        );
    }
  }
  const docs = constructFromEvents(events, { source, filename, schema: CORE_SCHEMA, maxAliases: 0 });
  return docs.filter((d) => d !== null && d !== undefined);
}
