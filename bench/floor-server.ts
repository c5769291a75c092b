/**
 * The ceiling of the serving stack on this machine, for the queries scenario: a server that
 * answers the bench's query with a constant, read from no store at all. Run as its own process:
 *
 *   tsx bench/floor-server.ts http   <answer.json>   # node:http, the answer's bytes as they are
 *   tsx bench/floor-server.ts apollo <answer.json>   # Apollo Server, as our subgraphs run it
 *
 * `answer.json` is a real answer of the production subgraph (`{"data":{"productionSeries":…}}`).
 * The Apollo variant has the query's field with the same arguments and types and returns that
 * answer's object: parsing, validation, execution of its fields and serialization, as in the
 * production subgraph, on the same node:http integration (`executeHTTPGraphQLRequest`) and the same
 * plugin settings (no landing page, no inline traces, no cache hints), in production mode. It prints
 * its port on stdout.
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { APOLLO_SETTINGS } from '../subgraphs/create-subgraph-server.ts';

const [mode, file] = process.argv.slice(2);
const answer = readFileSync(file, 'utf8');

const TYPE_DEFS = `
  scalar DateTime
  enum ProductionMetric { PARTS_EXITED }
  enum Grain { MINUTE HOUR DAY }
  type Point { bucket: DateTime! value: Float! }
  type Series { total: Float! points: [Point!]! }
  type Query {
    productionSeries(metric: ProductionMetric!, grain: Grain!, from: DateTime!, to: DateTime!, station: ID, errorCode: String): Series!
  }`;

async function main() {
  let handler: (body: string, headers: HeaderMap) => Promise<string>;
  if (mode === 'http') {
    handler = async () => answer;
  } else if (mode === 'apollo') {
    const series = (JSON.parse(answer) as { data: { productionSeries: unknown } }).data.productionSeries;
    const apollo = new ApolloServer({
      typeDefs: TYPE_DEFS,
      resolvers: { Query: { productionSeries: () => series } },
      includeStacktraceInErrorResponses: false,
      ...APOLLO_SETTINGS(),
    });
    await apollo.start();
    handler = async (body, headers) => {
      const r = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: '', body: JSON.parse(body) },
        context: async () => ({}),
      });
      if (r.body.kind !== 'complete') throw new Error('incremental answer');
      return r.body.string;
    };
  } else throw new Error(`mode: http | apollo, not ${mode}`);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      handler(Buffer.concat(chunks).toString('utf8'), headers).then(
        (text) => res.writeHead(200, { 'content-type': 'application/json' }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

await main();
