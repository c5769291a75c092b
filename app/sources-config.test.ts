import { describe, it, afterAll as after } from 'vitest';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from './config.ts';
import { connectorSpecs, factoryDir } from './sources.ts';
import { loadSourcesFile } from './sources-config.ts';
import { connectorKinds } from '../ingest/registry.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sources-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DB = 'postgres://postgres@127.0.0.1:5432/test';

/** The connector list as it was hard-wired in app/sources.ts before the sources file (the reference). */
function hardWired(c: Config, databaseUrl: string) {
  const s = c.MILLRACE_SCHEMA;
  const n = {
    archive: `${s}_machining_archive`,
    workOrders: `${s}_work_orders`,
    sqlSchema: `${s}_src`,
    slot: c.CDC_SLOT ?? `${c.MILLRACE_PREFIX.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_orders`,
  }; // slots are server-wide: named from the prefix
  const sql = c.MSSQL_URL
    ? { dialect: 'mssql', url: c.MSSQL_URL }
    : c.ORACLE_URL
      ? { dialect: 'oracle', url: c.ORACLE_URL }
      : c.MARIADB_URL
        ? { dialect: 'mariadb', url: c.MARIADB_URL }
        : { dialect: 'postgres', url: databaseUrl };
  const q = (t: string) => (sql.dialect === 'postgres' ? `${n.sqlSchema}.${t}` : t);
  const ARCHIVE = [
    'event_id',
    'kind',
    'part_id',
    'station',
    'machine',
    'operator',
    'at',
    'next_station',
    'error_code',
    'cycle_time_ms',
  ];
  const WORK = ['wo_id', 'sku', 'planned_qty', 'due_date', 'updated_at'];
  const archiveCfg = { table: q(n.archive), keyColumn: 'event_id', mapping: 'machining-archive' };
  const workCfg = { table: q(n.workOrders), keyColumn: 'wo_id', mapping: 'work-order' };
  const d = factoryDir(c);
  return [
    {
      name: 'machining',
      kind: 'kafka',
      config: { topic: c.MACHINING_TOPIC, partitions: c.MACHINING_PARTITIONS, schema: 'machining' },
    },
    { name: 'heat', kind: 'kafka', config: { topic: c.HEAT_TOPIC, partitions: 1, schema: 'heat' } },
    {
      name: 'energy',
      kind: 'csv-tail',
      config: { directory: path.join(d, 'energy'), pattern: '^energy-.*\\.csv$', schema: 'energy' },
    },
    { name: 'clockin', kind: 'excel', config: { directory: path.join(d, 'clockin') } },
    {
      name: 'orders',
      kind: 'postgres-cdc',
      config: {
        connectionString: databaseUrl,
        slot: n.slot,
        publication: `${n.slot}_pub`,
        tables: [`${c.ORDERS_SCHEMA}.orders`],
      },
    },
    ...(sql.dialect === 'mssql'
      ? [
          {
            name: 'machining-archive',
            kind: 'sql-server-ct',
            config: { url: sql.url, columns: ARCHIVE, ...archiveCfg },
          },
          { name: 'work-orders', kind: 'sql-server-ct', config: { url: sql.url, columns: WORK, ...workCfg } },
        ]
      : [
          {
            name: 'machining-archive',
            kind: 'sql-polling',
            config: {
              dialect: sql.dialect,
              url: sql.url,
              columns: [...ARCHIVE, 'archived_at'],
              watermarkColumn: 'archived_at',
              ...archiveCfg,
            },
          },
          {
            name: 'work-orders',
            kind: 'sql-polling',
            config: { dialect: sql.dialect, url: sql.url, columns: WORK, watermarkColumn: 'updated_at', ...workCfg },
          },
        ]),
    { name: 'tools', kind: 'rest-poll', config: { baseUrl: `http://127.0.0.1:${c.TOOL_API_PORT}` } },
    {
      name: 'tool-master',
      kind: 'file-snapshot',
      config: {
        path: path.join(d, 'reference', 'tool-master.csv'),
        format: 'csv',
        entity: 'tool',
        keyField: 'tool_id',
      },
    },
    {
      name: 'floor-map',
      kind: 'file-snapshot',
      config: {
        path: path.join(d, 'reference', 'floor-map.json'),
        format: 'json',
        entity: 'station',
        keyField: 'id',
        recordsPath: 'stations',
      },
    },
  ];
}

/** A connector's config as its kind parses it (defaults applied): what it runs with. */
const parsed = (specs: Array<{ name: string; kind: string; config: unknown }>) =>
  specs.map((s) => ({ name: s.name, kind: s.kind, config: connectorKinds[s.kind].config.parse(s.config) }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('sources file', () => {
  for (const env of [
    {},
    { MARIADB_URL: 'mysql://root@127.0.0.1:3306/test' },
    { MSSQL_URL: 'mssql://sa:pw@127.0.0.1:1433/test' },
    { ORACLE_URL: 'oracle://u:p@127.0.0.1:1521/FREEPDB1', CDC_SLOT: 'my_slot' },
    {
      MILLRACE_SCHEMA: 'plant_b',
      FACTORY_DIR: '/srv/factory',
      TOOL_API_PORT: '5011',
      MACHINING_PARTITIONS: '6',
      HEAT_TOPIC: 'b.heat',
    },
    { MILLRACE_PREFIX: 'Plant-B' },
  ]) {
    it(`the shipped MyCPU config gives the connectors that were hard-wired (${JSON.stringify(env)})`, () => {
      const c = loadConfig(env);
      assert.deepEqual(parsed(connectorSpecs(c, DB)), parsed(hardWired(c, DB)));
    });
  }

  it("MILLRACE_SOURCES points at a plant's own file, JSON or YAML, with ${VAR}s and `when`", () => {
    const yaml = write(
      'plant.sources.yaml',
      [
        'plant: Plant B',
        'connectors:',
        '  - name: line-events',
        '    kind: kafka',
        '    config: { topic: "plant-b.${MILLRACE_SCHEMA}", partitions: "${MILLRACE_PARTITIONS}", schema: machining }',
        '  - name: only-on-mssql',
        '    kind: kafka',
        '    when: { SQL_DIALECT: [mssql] }',
        '    config: { topic: t, partitions: 1, schema: heat }',
      ].join('\n'),
    );
    const c = loadConfig({ MILLRACE_SOURCES: yaml, MILLRACE_SCHEMA: 'pb', MILLRACE_PARTITIONS: '3' });
    assert.deepEqual(connectorSpecs(c, DB), [
      { name: 'line-events', kind: 'kafka', config: { topic: 'plant-b.pb', partitions: 3, schema: 'machining' } },
    ]);
  });

  it('a bad file fails at start naming the file and the path of the bad value', () => {
    const vars = { FACTORY_DIR: '/f' };
    const cases: Array<[string, string, RegExp]> = [
      ['missing.json', '', /sources file .*missing\.json: ENOENT/],
      ['syntax.json', '{ "connectors": [', /syntax\.json: not valid JSON/],
      ['empty.json', '{ "connectors": [] }', /empty\.json: connectors: /],
      [
        'kind.json',
        '{ "connectors": [{ "name": "a", "kind": "ftp", "config": {} }] }',
        /kind\.json: connectors\[0\]\.kind: unknown kind "ftp"; one of: csv-tail, excel/,
      ],
      [
        'value.json',
        '{ "connectors": [{ "name": "e", "kind": "csv-tail", "config": { "directory": "${FACTORY_DIR}/e", "pattern": "x", "schema": "energy", "pollMs": -5 } }] }',
        /value\.json: connectors\[0\]\.config\.pollMs \(connector e\): /,
      ],
      [
        'var.json',
        '{ "connectors": [{ "name": "e", "kind": "csv-tail", "config": { "directory": "${NOPE}/e", "pattern": "x", "schema": "energy" } }] }',
        /var\.json: connectors\[0\]\.config\.directory: \$\{NOPE\} is not set/,
      ],
      [
        'twice.json',
        '{ "connectors": [{ "name": "e", "kind": "excel", "config": { "directory": "/a" } }, { "name": "e", "kind": "excel", "config": { "directory": "/b" } }] }',
        /twice\.json: connectors\[1\]\.name: connector name "e" is used twice/,
      ],
    ];
    for (const [name, text, message] of cases) {
      const file = text ? write(name, text) : path.join(dir, name);
      assert.throws(
        () => loadSourcesFile(file, vars, connectorKinds),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'CONFIG');
          assert.match(err.message, message);
          return true;
        },
        name,
      );
    }
  });
});
