import { ApiFailure } from './api-client.ts';

/** The freshness fields every report answers with (schema/common.graphql `Freshness`). */
export interface FreshnessInfo {
  asOf: string;
  batchWatermark?: string | null;
  speedLagEvents: number;
  speedAppliedAt?: string | null;
}

export type PanelState = 'loading' | 'ready' | 'empty' | 'error';

export interface Panel {
  root: HTMLElement;
  /** Where the panel's content goes (cleared by the empty and error states). */
  body: HTMLElement;
  state: PanelState;
  loading(): void;
  ready(): void;
  empty(message: string): void;
  error(err: unknown): void;
  freshness(f: FreshnessInfo | null, liveAt?: number | null): void;
}

/**
 * A dashboard panel: title, content, and its designed states. Loading keeps the last figures
 * dimmed (a refetch must not flash), empty says what is missing, error shows the API's code and
 * message (e.g. a report whose resolvers are not deployed yet) and the next retry.
 */
export function createPanel(parent: HTMLElement, id: string, title: string, opts: { wide?: boolean } = {}): Panel {
  const root = el('section', `panel${opts.wide ? ' wide' : ''}`);
  root.dataset.panel = id;
  const head = el('header');
  head.append(el('h2', '', title));
  const fresh = el('span', 'freshness', '');
  head.append(fresh);
  const body = el('div', 'panel-body');
  const note = el('div', 'panel-note');
  root.append(head, note, body);
  parent.append(root);
  const panel: Panel = {
    root,
    body,
    state: 'loading',
    loading() {
      // A re-read keeps what is shown (figures dimmed, or the last error/empty note) until it answers.
      if (panel.state === 'loading' && !body.childElementCount && !note.childElementCount)
        note.replaceChildren(el('div', 'skeleton', 'Loading…'));
      panel.state = 'loading';
      root.dataset.state = 'loading';
    },
    ready() {
      panel.state = 'ready';
      root.dataset.state = 'ready';
      note.replaceChildren();
    },
    empty(message) {
      panel.state = 'empty';
      root.dataset.state = 'empty';
      body.replaceChildren();
      note.replaceChildren(el('div', 'empty', message));
    },
    error(err) {
      panel.state = 'error';
      root.dataset.state = 'error';
      body.replaceChildren();
      const box = el('div', 'error');
      if (err instanceof ApiFailure) {
        const e = err.errors[0];
        box.append(el('strong', '', e.code), document.createTextNode(` ${e.message}`));
        if (e.code === 'GRAPHQL_VALIDATION_FAILED' || /Cannot query field/.test(e.message)) {
          box.append(el('div', 'hint', 'This report is not served by the running gateway yet.'));
        } else if (e.code === 'INTERNAL_SERVER_ERROR' || e.code === 'SUBSCRIPTION_CLOSED') {
          box.append(
            el(
              'div',
              'hint',
              'The gateway could not answer this (is its subgraph deployed with these fields?). Retrying.',
            ),
          );
        } else if (err.unauthenticated) {
          box.append(el('div', 'hint', 'Sign in with a token that has the scope this report needs.'));
        } else {
          box.append(el('div', 'hint', 'Retrying on the next update.'));
        }
      } else {
        box.append(el('strong', '', 'ERROR'), document.createTextNode(` ${(err as Error)?.message ?? String(err)}`));
      }
      note.replaceChildren(box);
    },
    freshness(f, liveAt) {
      if (!f) {
        fresh.textContent = '';
        return;
      }
      const parts = [`as of ${clock(f.asOf)}`];
      if (f.batchWatermark) parts.push(`batch ≤ ${clock(f.batchWatermark)}`);
      parts.push(`speed lag ${f.speedLagEvents} ev`);
      if (liveAt) parts.push(`live ${Math.max(0, Math.round((Date.now() - liveAt) / 1000))} s ago`);
      fresh.textContent = parts.join(' · ');
      fresh.title = `asOf ${f.asOf}\nbatch watermark ${f.batchWatermark ?? '—'}\nspeed applied ${f.speedAppliedAt ?? '—'}`;
      fresh.dataset.asOf = f.asOf;
    },
  };
  panel.loading();
  return panel;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A table from rows of cells; numeric cells are right-aligned and carry their raw value. */
export function table(headers: string[], rows: (string | number | null)[][], testId?: string): HTMLTableElement {
  const t = el('table');
  if (testId) t.dataset.testid = testId;
  const tr = el('tr');
  for (const h of headers) tr.append(el('th', '', h));
  t.append(el('thead'));
  t.tHead!.append(tr);
  const tb = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    for (const c of r) {
      const td = el('td', typeof c === 'number' ? 'num' : '', c === null ? '—' : typeof c === 'number' ? fmt(c) : c);
      if (typeof c === 'number') td.dataset.value = String(c);
      row.append(td);
    }
    tb.append(row);
  }
  t.append(tb);
  return t;
}

/** A headline figure; `data-value` holds the exact served value for tests and tooltips. */
export function stat(label: string, value: number | null, unit = '', key?: string): HTMLElement {
  const box = el('div', 'stat');
  if (key) box.dataset.stat = key;
  const v = el('div', 'value', value === null ? '—' : `${fmt(value)}${unit}`);
  v.dataset.value = value === null ? '' : String(value);
  box.append(v, el('div', 'label', label));
  return box;
}

export function fmt(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (Math.abs(n) < 1) return n.toFixed(3);
  return n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

export function pct(n: number | null | undefined): string {
  return n == null ? '—' : `${(n * 100).toFixed(1)} %`;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return d.toISOString().slice(5, 19).replace('T', ' ');
}
