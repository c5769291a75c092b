import { Kind, parse, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import type { Authenticator, Principal } from './create-authenticator.ts';
import { credentialsOf, endAt, PRINCIPAL } from './use-authentication.ts';

/** Options of subscription sharing at the gateway. */
export interface SubscriptionSharingOptions {
  /** Checks the credentials of each subscriber (the key holds its scopes). */
  authenticator: Authenticator;
  /**
   * Subscription root fields that stream "from now" when called without `after` (no snapshot
   * first): a subscriber may join a shared stream of them at any time. Default ['productionDeltas'].
   */
  liveTails?: readonly string[];
  /**
   * Charges a subscriber who joins an open group (and so skips the pipeline, whose rate limit
   * charges everyone else) one operation; false: over its limit, and it takes the pipeline
   * instead, which answers RATE_LIMITED. Default: every joiner admitted.
   */
  admit?: (principal: Principal) => boolean;
}

type Run = (args: { contextValue?: unknown }) => unknown;

/**
 * Where a member's messages go without passing graphql-ws: its socket and operation id. `admit`
 * says whether the socket may take `bytes` more (false: it was closed as a slow consumer).
 */
export interface DirectSink {
  id: string;
  send(text: string): void;
  admit(bytes: number): boolean;
}

interface Member {
  direct: DirectSink | null;
  /** The member's token expiry (ms): nothing is sent to it after that. */
  expiresAt: number;
  queue: ExecutionResult[];
  wake: (() => void) | null;
  done: boolean;
  failure: { error: unknown } | null;
}

interface Group {
  key: string;
  tail: boolean;
  members: Set<Member>;
  /** A message went out: from now on only a live tail can take joiners. */
  started: boolean;
  ended: boolean;
  source: AsyncIterator<ExecutionResult> | null;
  /** True once the leader's operation returned a stream; false when it returned an error instead. */
  ready: Promise<boolean>;
}

/**
 * Identical subscriptions (same document, operation name, variables and the subscriber's scopes)
 * share ONE execution through the gateway pipeline, hence one upstream subscription and one store
 * reader; each result is handed to every member (the same object, no per-member execution).
 *
 * Exact by construction, never by timing: a subscriber joins a group only while the group has
 * sent nothing yet (it then gets the whole stream, snapshot included, as the leader does), or
 * when the operation is a live tail (`liveTails`, without `after`), whose messages only ever
 * say "what happened since the previous one" and whose subscribers expect the stream from the
 * moment they join. Otherwise (e.g. `productionUpdates` after its SNAPSHOT went out, or a resume
 * from a cursor) it leads a new group with a snapshot of its own.
 *
 * Per member, as before: authentication (the credentials are checked for each subscriber; the
 * key holds the scopes they grant, which is all authorization and the resolvers look at), and
 * the token's expiry (each member ends when its own token does; the shared execution carries
 * none). A joiner is not counted by the rate limit: it costs no execution. The upstream is
 * released when the last member leaves.
 */
export function createSubscriptionSharing(opts: SubscriptionSharingOptions) {
  const liveTails = new Set(opts.liveTails ?? ['productionDeltas']);
  /** The open group of each key (the one joiners may join); `live` also holds older ones still streaming. */
  const groups = new Map<string, Group>();
  const live = new Set<Group>();
  const shapes = new Map<string, { subscription: boolean; tailField: string | null; afterVar: string | null }>();

  /** Whether the document is a subscription, and whether it is one live-tail field without `after`. */
  function shapeOf(query: string, operationName: string | null) {
    const k = `${operationName ?? ''}\u0000${query}`;
    let s = shapes.get(k);
    if (s) return s;
    s = { subscription: false, tailField: null, afterVar: null };
    try {
      const ops = parse(query).definitions.filter(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops.length === 1 ? ops[0] : null;
      if (op?.operation === 'subscription') {
        s.subscription = true;
        const [sel, ...more] = op.selectionSet.selections;
        if (!more.length && sel?.kind === Kind.FIELD && liveTails.has(sel.name.value)) {
          const after = sel.arguments?.find((a) => a.name.value === 'after')?.value;
          if (!after || after.kind === Kind.NULL) s.tailField = sel.name.value;
          else if (after.kind === Kind.VARIABLE) {
            s.tailField = sel.name.value;
            s.afterVar = after.name.value;
          }
        }
      }
    } catch {
      // Not parseable: not shared; the pipeline reports the syntax error.
    }
    if (shapes.size >= 1000) shapes.delete(shapes.keys().next().value!);
    shapes.set(k, s);
    return s;
  }

  /**
   * A member of `g`. With a direct sink, every result goes straight to its socket as one string
   * built around the result's JSON, serialised once for all members (per member: a concatenation
   * and a write, no execution, no serialisation, no promise); the iterator graphql-ws holds then
   * only ends (complete) or fails (error) — after every direct message, so in order.
   */
  function join(g: Group, direct: DirectSink | null, expiresAt = Infinity): AsyncIterableIterator<ExecutionResult> {
    const m: Member = { direct, expiresAt, queue: [], wake: null, done: false, failure: null };
    g.members.add(m);
    const leave = () => {
      if (!g.members.delete(m)) return;
      if (g.members.size === 0) {
        end(g);
        g.source?.return?.().catch(() => undefined);
      }
    };
    const it: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        for (;;) {
          const v = m.queue.shift();
          if (v) return { done: false, value: v };
          if (m.failure) {
            leave();
            throw m.failure.error;
          }
          if (m.done) {
            leave();
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => (m.wake = resolve));
        }
      },
      async return() {
        m.done = true;
        m.queue.length = 0;
        leave();
        wake(m);
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        await it.return!();
        throw error;
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  const end = (g: Group) => {
    g.ended = true;
    live.delete(g);
    if (groups.get(g.key) === g) groups.delete(g.key);
  };
  const wake = (m: Member) => {
    const w = m.wake;
    m.wake = null;
    w?.();
  };

  async function pump(g: Group): Promise<void> {
    try {
      for (;;) {
        const r = await g.source!.next();
        if (r.done || g.ended) break;
        g.started = true;
        let json: string | null = null;
        const now = Date.now();
        for (const m of g.members) {
          if (m.done || now >= m.expiresAt) continue;
          if (!m.direct) {
            m.queue.push(r.value);
            wake(m);
            continue;
          }
          json ??= JSON.stringify(r.value);
          const text = `{"id":${JSON.stringify(m.direct.id)},"type":"next","payload":${json}}`;
          if (m.direct.admit(text.length)) m.direct.send(text);
          else ((m.done = true), wake(m));
        }
      }
      for (const m of g.members) ((m.done = true), wake(m));
    } catch (error) {
      for (const m of g.members) ((m.failure = { error }), wake(m));
    } finally {
      end(g);
    }
  }

  /** The subscriber's stream: joined to an open group, or leading a new one. */
  async function share(args: { contextValue?: unknown }, run: Run, direct: DirectSink | null = null): Promise<unknown> {
    const ctx = args.contextValue as Record<string, unknown>;
    const params = ctx.params as { query?: string; operationName?: string | null; variables?: unknown } | undefined;
    if (typeof params?.query !== 'string') return run(args);
    const shape = shapeOf(params.query, params.operationName ?? null);
    if (!shape.subscription) return run(args);
    let principal: Principal;
    try {
      principal = await opts.authenticator.authenticate(credentialsOf(ctx));
    } catch {
      return run(args); // the pipeline answers UNAUTHENTICATED
    }
    const vars = (params.variables ?? {}) as Record<string, unknown>;
    const tail = shape.tailField !== null && (shape.afterVar === null || vars[shape.afterVar] == null);
    const key = JSON.stringify([params.query, params.operationName ?? null, vars, [...principal.scopes].sort()]);
    const member = (it: AsyncIterableIterator<ExecutionResult>) =>
      principal.expiresAt === undefined ? it : endAt(it, principal.expiresAt);

    for (;;) {
      const open = groups.get(key);
      if (!open || open.ended || (open.started && !open.tail)) break;
      if (!(await open.ready)) return run(args); // the leader got an error (not a stream): ask for our own
      if (!open.ended && (!open.started || open.tail)) {
        if (opts.admit && !opts.admit(principal)) return run(args);
        return member(join(open, direct, principal.expiresAt));
      }
    }

    let settle!: (ok: boolean) => void;
    const g: Group = {
      key,
      tail,
      members: new Set(),
      started: false,
      ended: false,
      source: null,
      ready: new Promise<boolean>((resolve) => (settle = resolve)),
    };
    groups.set(key, g);
    live.add(g);
    // The shared execution carries no expiry: each member ends at its own token's (above).
    ctx[PRINCIPAL] = { ...principal, expiresAt: undefined };
    let result: unknown;
    try {
      result = await run(args);
    } catch (error) {
      end(g);
      settle(false);
      throw error;
    }
    if (!result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) {
      end(g);
      settle(false);
      return result;
    }
    g.source = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    const first = join(g, direct, principal.expiresAt);
    settle(true);
    void pump(g);
    return member(first);
  }

  return {
    share,
    /** Open groups and their members (tests, metrics). */
    stats: () => ({ groups: live.size, members: [...live].reduce((n, g) => n + g.members.size, 0) }),
  };
}
