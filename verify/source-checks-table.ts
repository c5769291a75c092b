import type { SourceCheck } from './source-checks.ts';

/**
 * Which ledger fact is served by which metric (docs/sources.md). Sources not yet wired into the
 * pipeline have no entry; a source whose ledger has no seal is skipped with a log line.
 */
export const SOURCE_CHECKS: readonly SourceCheck[] = Object.freeze([]);
