import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
/**
 * OpenTelemetry traces through gateway → subgraph → store. The gateway's spans come from
 * `@graphql-hive/plugin-opentelemetry` (HTTP request, parse, validate, plan, each subgraph fetch,
 * with the W3C `traceparent` injected into the fetch); a subgraph continues that trace in a server
 * span (`tracedRequest`) and the serving layer adds one span per Postgres and Redis read
 * (`traced`). Until `setupTracing` (lib/tracing-setup.ts, loaded only when tracing is configured) registers a
 * provider, `traced` and `tracedRequest` only call their function.
 *
 * No span carries a header, a token or a variable value: attributes are names, metrics, grains,
 * ranges and error codes.
 */

let enabled = false;

/** True once a tracer provider is registered in this process (lib/tracing-setup.ts). */
export const tracingEnabled = () => enabled;

/** Marks spans as recorded (`setupTracing`) or not (`shutdownTracing`). */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

const tracer = () => trace.getTracer('millrace');

async function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    span.setAttribute('millrace.error.code', typeof code === 'string' ? code : 'INTERNAL');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

/** Runs `fn` in a child span of the active one; a failure marks the span with its error code. */
export function traced<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return tracer().startActiveSpan(name, { attributes }, (span) => inSpan(span, fn));
}

/**
 * Runs `fn` in a SERVER span that continues the trace carried by the request's `traceparent`
 * header (or starts one).
 */
export function tracedRequest<T>(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  if (!enabled) return fn();
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  return context.with(parent, () =>
    tracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, (span) => inSpan(span, fn)),
  );
}
