/**
 * The ceiling of the serving stack on this machine, for the queries scenario: a server that
 * answers the bench's query with a constant, read from no store at all, and the least any gateway
 * adds in front of a subgraph. Run as its own process:
 *
 *   tsx bench/floor-server.ts http   <answer.json>   # node:http, the answer's bytes as they are
 *   tsx bench/floor-server.ts apollo <answer.json>   # Apollo Server, as our subgraphs run it
 *   tsx bench/floor-server.ts proxy  <upstream url>  # node:http passing each body to the subgraph and its answer back
 *
 * `answer.json` is a real answer of the production subgraph (`{"data":{"productionSeries":…}}`).
 * The Apollo variant has the query's field with the same arguments and types and returns that
 * answer's object: parsing, validation, execution of its fields and serialization, as in the
 * production subgraph, on the same node:http integration (`executeHTTPGraphQLRequest`) and the same
 * plugin settings (no landing page, no inline traces, no cache hints), in production mode. The proxy
 * is a gateway with nothing in it (no parse, no plan, no plugin): a keep-alive connection per
 * concurrent request to the subgraph, the body forwarded and the answer's bytes returned; what it
 * costs is the hop itself (a process, two more loopback exchanges), which every gateway pays. It
 * prints its port on stdout.
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { APOLLO_SETTINGS } from '../subgraphs/create-subgraph-server.ts';

const [mode, arg] = process.argv.slice(2);

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
  let handler: (body: string, headers: IncomingHttpHeaders) => Promise<string>;
  if (mode === 'http') {
    const answer = readFileSync(arg, 'utf8');
    handler = async () => answer;
  } else if (mode === 'proxy') {
    const upstream = new URL(arg);
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    handler = (body) =>
      new Promise((resolve, reject) => {
        const req = request(
          upstream,
          {
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              res.statusCode === 200
                ? resolve(Buffer.concat(chunks).toString('utf8'))
                : reject(new Error(`upstream answered ${res.statusCode}`)),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
  } else if (mode === 'apollo') {
    const series = (JSON.parse(readFileSync(arg, 'utf8')) as { data: { productionSeries: unknown } }).data
      .productionSeries;
    const apollo = new ApolloServer({
      typeDefs: TYPE_DEFS,
      resolvers: { Query: { productionSeries: () => series } },
      includeStacktraceInErrorResponses: false,
      ...APOLLO_SETTINGS(),
    });
    await apollo.start();
    handler = async (body, incoming) => {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(incoming)) if (typeof v === 'string') headers.set(k, v);
      const r = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: 'POST', headers, search: '', body: JSON.parse(body) },
        context: async () => ({}),
      });
      if (r.body.kind !== 'complete') throw new Error('incremental answer');
      return r.body.string;
    };
  } else throw new Error(`mode: http | apollo | proxy, not ${mode}`);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handler(Buffer.concat(chunks).toString('utf8'), req.headers).then(
        (text) => res.writeHead(200, { 'content-type': 'application/json' }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

await main();
