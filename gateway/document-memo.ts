import { Kind, visit, type DocumentNode, type GraphQLSchema } from 'graphql';

/** Options of `createDocumentMemo`. */
export interface DocumentMemoOptions {
  /** Most documents remembered (least recently used leave first). Default 1000. */
  maxDocuments?: number;
  /** Most outcomes remembered per document (e.g. per scopes or variables; oldest leave first). Default 64. */
  maxPerDocument?: number;
}

/**
 * Remembers per-request work that depends only on the schema, the parsed document and a few
 * request values the caller puts in `key` (operation name, scopes, variables…). The document is
 * keyed by identity: the runtime's parser cache hands every request with the same text the same
 * `DocumentNode`, and a document is never changed in place (rewriting plugins make new ones), so
 * one object always means one text. A new schema forgets everything. Bounded: `maxDocuments`
 * documents (LRU) × `maxPerDocument` keys each.
 */
export function createDocumentMemo<V>(opts: DocumentMemoOptions = {}) {
  const maxDocuments = opts.maxDocuments ?? 1000;
  const maxPerDocument = opts.maxPerDocument ?? 64;
  let schema: GraphQLSchema | null = null;
  // Map order is the LRU order: a document read is moved to the end.
  let documents = new Map<DocumentNode, Map<string, V>>();
  const entriesOf = (s: GraphQLSchema, document: DocumentNode, create: boolean) => {
    if (schema !== s) {
      schema = s;
      documents = new Map();
    }
    let entries = documents.get(document);
    if (entries) {
      documents.delete(document);
      documents.set(document, entries);
    } else if (create) {
      documents.set(document, (entries = new Map()));
      if (documents.size > maxDocuments) documents.delete(documents.keys().next().value!);
    }
    return entries;
  };
  return {
    get(s: GraphQLSchema, document: DocumentNode, key: string): V | undefined {
      return entriesOf(s, document, false)?.get(key);
    },
    set(s: GraphQLSchema, document: DocumentNode, key: string, value: V): void {
      const entries = entriesOf(s, document, true)!;
      entries.set(key, value);
      if (entries.size > maxPerDocument) entries.delete(entries.keys().next().value!);
    },
  };
}

const conditional = new WeakMap<DocumentNode, boolean>();

/**
 * Whether the document has `@skip` or `@include` anywhere: only then can the fields an operation
 * selects depend on its variables.
 */
export function hasConditionalFields(document: DocumentNode): boolean {
  let known = conditional.get(document);
  if (known === undefined) {
    known = false;
    visit(document, {
      [Kind.DIRECTIVE](node) {
        if (node.name.value === 'skip' || node.name.value === 'include') known = true;
      },
    });
    conditional.set(document, known);
  }
  return known;
}
