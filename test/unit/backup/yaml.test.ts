import { describe, expect, it } from 'vitest';
import { dumpDocuments, parseDocumentsSafe } from '../../../src/backup/yaml.ts';

describe('backup YAML', () => {
  it('writes one document per object and reads them back equal', () => {
    const docs = [
      { a: 1, b: ['x', { c: null }] },
      { d: 'two\nlines', e: true },
    ];
    const text = dumpDocuments(docs);
    expect(text.match(/^---$/gm)).toHaveLength(2);
    expect(parseDocumentsSafe(text, 't.yaml')).toEqual(docs);
  });

  it('quotes strings YAML 1.1 parsers (kubectl) would read as bools or numbers', () => {
    const text = dumpDocuments([{ labels: { enabled: 'yes', on: 'on', mode: '0777', n: '1e3', nul: 'null' } }]);
    for (const v of ['yes', 'on', '0777', '1e3', 'null']) expect(text).toContain(`'${v}'`);
    expect(parseDocumentsSafe(text, 't.yaml')).toEqual([
      { labels: { enabled: 'yes', on: 'on', mode: '0777', n: '1e3', nul: 'null' } },
    ]);
  });

  it('drops empty documents and keeps an empty file empty', () => {
    expect(parseDocumentsSafe('', 'e.yaml')).toEqual([]);
    expect(parseDocumentsSafe('---\na: 1\n---\n', 'e.yaml')).toEqual([{ a: 1 }]);
  });

  it('refuses anchors, aliases and tags with a line number', () => {
    expect(() => parseDocumentsSafe('a: 1\nb: &x 2\n', 'f.yaml')).toThrow(/anchor at line 2/);
    expect(() => parseDocumentsSafe('a: !!str 1\n', 'f.yaml')).toThrow(/tag !!str at line 1/);
    expect(() => parseDocumentsSafe('a: *x\n', 'f.yaml')).toThrow();
  });

  it('refuses absurd nesting and duplicate keys', () => {
    expect(() => parseDocumentsSafe('['.repeat(200) + ']'.repeat(200), 'deep.yaml')).toThrow();
    expect(() => parseDocumentsSafe('a: 1\na: 2\n', 'dup.yaml')).toThrow();
  });

  it('names the line of a refusal in a part that starts further down the file', () => {
    expect(() => parseDocumentsSafe('---\na: 1\nb: &x 2\n', 'p.yaml', 41)).toThrow(/anchor at line 43/);
  });
});
