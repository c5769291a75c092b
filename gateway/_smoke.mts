const _st = globalThis.setTimeout; const timers = new Map<any, string>();
(globalThis as any).setTimeout = (fn: any, ms: any, ...a: any[]) => { const t = _st(() => { timers.delete(t); fn(...a); }, ms); if (ms >= 500) timers.set(t, `${ms} ${new Error().stack!.split('\n').slice(2, 7).join(' | ')}`); return t; };
const _ct = globalThis.clearTimeout; (globalThis as any).clearTimeout = (t: any) => { timers.delete(t); _ct(t); };
import { createSubgraphServer } from '../subgraphs/create-subgraph-server.ts';
import { createGateway } from '../gateway/create-gateway.ts';
import { createFixtureServing, FIXTURE_FLOOR } from '../resolvers/fixture-serving.ts';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
const t0 = Date.UTC(2026, 10, 22, 7);
const serving = createFixtureServing([
  { metric: 'parts_exited', bucket: t0, dims: { station: 'CUT' }, cells: [5] },
  { metric: 'station_errors', bucket: t0, dims: { station: 'CUT', errorCode: 'E1' }, cells: [2] },
  { metric: 'cycle_time', bucket: t0, dims: { station: 'CUT' }, cells: [4, 100000, 1, 1, 1, 0, 0, 0, 0, 0, 1] },
]);
const prod = await createSubgraphServer({ name: 'production', serving, floor: FIXTURE_FLOOR });
const qual = await createSubgraphServer({ name: 'quality', serving, floor: FIXTURE_FLOOR });
let ready = false;
const gw = await createGateway({ port: 0, subgraphs: [{ name: 'production', ...prod }, { name: 'quality', ...qual }], health: async () => ({ ready, components: { x: 1 } }), status: async () => ({ ok: 1 }) });
console.log(gw.url);
const q = async (query: string, variables = {}) => (await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) })).text();
console.log(await q(`{ stations { id name errorCount(from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") errorRate(from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") } }`));
console.log(await q(`{ productionSeries(metric: CYCLE_TIME, grain: HOUR, from: "bad", to: "2026-11-22T08:00:00Z") { total } }`));
console.log(await q(`{ stations { id errorCount(from: "2026-11-22T09:00:00Z", to: "2026-11-22T08:00:00Z") } }`));
serving.failWith(new Error('secret'));
console.log(await q(`{ productionSeries(metric: CYCLE_TIME, grain: HOUR, from: "2026-11-22T07:00:00Z", to: "2026-11-22T08:00:00Z") { total } }`));
serving.failWith(null);
console.log((await fetch(gw.url.replace('/graphql', '/healthz'))).status);
ready = true;
console.log(await (await fetch(gw.url.replace('/graphql', '/healthz'))).text());
console.log(await (await fetch(gw.url.replace('/graphql', '/status'))).text());
const html = await (await fetch(gw.url, { headers: { accept: 'text/html' } })).text();
console.log(html.length, html.match(/<(script|link)[^>]*(src|href)=["']https?:\/\/[^"']*/g));
const client = createClient({ url: gw.url.replace('http', 'ws'), webSocketImpl: WebSocket });
const got: any[] = [];
const sub = client.iterate({ query: `subscription { productionDeltas { cursor items { metric station value } } }` });
const first = sub.next();
await serving.waitFor(() => serving.openFeeds === 1);
serving.push([{ metric: 'parts_exited', bucket: t0, dims: { station: 'CUT' }, cells: [1] }]);
console.log(JSON.stringify(await first));
await sub.return!();
await serving.waitFor(() => serving.openFeeds === 0);
console.log('feed closed');
await client.dispose();
await gw.close(); await prod.close(); await qual.close();
console.log('closed', process.getActiveResourcesInfo());
const tc = Date.now();
process.on('exit', () => console.log('exit after', Date.now() - tc, 'ms'));
setImmediate(() => { for (const [t, st] of timers) if ((t as any).hasRef?.()) console.log('timer', st); });
