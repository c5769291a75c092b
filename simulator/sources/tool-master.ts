import { createRng, deriveSeed } from '../prng.ts';

/**
 * The MyCPU tool master list (MYCPU.md: tool id, type, vendor, rated lifespan hours, use cases).
 * A pure function of the seed, so the tool inventory source can hand out the same tools.
 */
export interface Tool {
  /** e.g. `T-017`. */
  toolId: string;
  type: string;
  vendor: string;
  ratedLifespanHours: number;
  /** Station ids the tool is used at. */
  useCases: string[];
}

/** The CSV's columns, in order. */
export const TOOL_MASTER_COLUMNS = ['tool_id', 'type', 'vendor', 'rated_lifespan_hours', 'use_cases'] as const;
export type ToolMasterRow = Record<(typeof TOOL_MASTER_COLUMNS)[number], string>;

/** Tool types: where they are used and their typical rated life, hours. */
const TYPES: ReadonlyArray<{ type: string; stations: string[]; life: number }> = [
  { type: 'die attach collet', stations: ['DIE'], life: 400 },
  { type: 'epoxy dispense needle', stations: ['DIE'], life: 150 },
  { type: 'bond head', stations: ['BND'], life: 1_200 },
  { type: 'wire bonding capillary', stations: ['BND', 'REW'], life: 250 },
  { type: 'lid press fixture', stations: ['ENC'], life: 2_000 },
  { type: 'oven carrier tray', stations: ['CUR', 'BRN'], life: 3_000 },
  { type: 'burn-in socket', stations: ['BRN'], life: 800 },
  { type: 'test socket', stations: ['TST', 'REW'], life: 600 },
  { type: 'probe card', stations: ['TST', 'INS'], life: 1_500 },
  { type: 'laser focus lens', stations: ['MRK'], life: 5_000 },
  { type: 'torque driver', stations: ['ENC', 'REW', 'MNT'], life: 2_500 },
  { type: 'vacuum pick-up tip', stations: ['DIE', 'PKG'], life: 300 },
];
const VENDORS = ['Kessler Tooling', 'Hanada Precision', 'Vantor Systems', 'Ostrava Instruments', 'Brightline Semi'];

/** Default number of tools (MYCPU.md suggests a crib of about forty). */
export const TOOL_COUNT = 40;

/** The tool master list for a seed: every type at least once, then random types; ids `T-001`…. */
export function generateToolMaster(seed: number, count: number = TOOL_COUNT): Tool[] {
  const rng = createRng(deriveSeed(seed, 'tool-master'));
  return Array.from({ length: count }, (_, i) => {
    const t = i < TYPES.length ? TYPES[i] : rng.pick(TYPES);
    return {
      toolId: `T-${String(i + 1).padStart(3, '0')}`,
      type: t.type,
      vendor: rng.pick(VENDORS),
      // Vendors rate round figures: ±20 % around the type's typical life, to the nearest 10 h.
      ratedLifespanHours: Math.round((t.life * (0.8 + rng.next() * 0.4)) / 10) * 10,
      useCases: [...t.stations],
    };
  });
}

/** A tool as its CSV row, strings throughout (what a CSV reader yields); use cases joined by `;`. */
export function toolMasterRow(t: Tool): ToolMasterRow {
  return {
    tool_id: t.toolId,
    type: t.type,
    vendor: t.vendor,
    rated_lifespan_hours: String(t.ratedLifespanHours),
    use_cases: t.useCases.join(';'),
  };
}

/** The whole CSV file. No value holds a comma, quote or newline, so no quoting is needed. */
export function toolMasterCsv(tools: readonly Tool[]): string {
  const rows = tools.map((t) => TOOL_MASTER_COLUMNS.map((c) => toolMasterRow(t)[c]).join(','));
  return `${TOOL_MASTER_COLUMNS.join(',')}\n${rows.join('\n')}\n`;
}
