import { trace } from '@opentelemetry/api';
import { openTelemetrySetup, disable } from '@graphql-hive/plugin-opentelemetry/setup';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { setTracingEnabled, tracingEnabled } from './tracing.ts';

// The process-wide OpenTelemetry set-up (lib/tracing.ts says what is traced). Kept apart so that
// a process without tracing never loads the SDK.

export interface TracingOptions {
  /** `service.name` of this process's spans, e.g. `millrace-gateway`. */
  serviceName: string;
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint?: string;
  /** Span processors instead of the OTLP exporter (tests: an in-memory exporter). */
  processors?: SpanProcessor[];
  /** Share of traces recorded, 0..1 (parent-based: a subgraph follows the gateway's choice). Default 1. */
  sampleRate?: number;
}

/** Registers the process-wide tracer provider, context manager and W3C propagators. */
export function setupTracing(opts: TracingOptions): void {
  const traces = opts.processors
    ? { processors: opts.processors }
    : opts.endpoint
      ? { exporter: new OTLPTraceExporter({ url: opts.endpoint }) }
      : undefined;
  if (!traces) return;
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: opts.serviceName },
    samplingRate: opts.sampleRate ?? 1,
    traces,
    configureDiagLogger: false,
  });
  setTracingEnabled(true);
}

/** Flushes and unregisters what `setupTracing` registered (tests, shutdown). */
export async function shutdownTracing(): Promise<void> {
  if (!tracingEnabled()) return;
  // The global provider is OpenTelemetry's proxy; the SDK provider behind it holds the batches.
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (proxy.getDelegate?.() ?? proxy) as { forceFlush?: () => Promise<void> };
  await provider.forceFlush?.();
  disable();
  setTracingEnabled(false);
}
