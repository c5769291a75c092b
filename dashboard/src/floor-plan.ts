/** A station as the floor plan needs it (from the `stations` query). */
export interface FloorStation {
  id: string;
  name: string;
  x: number;
  y: number;
  zone: { id: string };
}

export interface FloorPlan {
  svg: SVGSVGElement;
  /** Colours stations by value (e.g. WIP: the bottleneck heat map); labels show the value (`format`: default rounded). */
  stations(values: Map<string, number>, unit?: string, format?: (v: number) => string): void;
  /** Colours zones (the stations' bounding boxes) by value, e.g. temperature °C. */
  zones(values: Map<string, number>, unit?: string): void;
  /** A short pulse on a station: a part moved there just now. */
  pulse(stationId: string): void;
}

const NS = 'http://www.w3.org/2000/svg';
const PAD = 12;

/**
 * The floor plan from the ingested floor map's x/y positions, drawn as SVG (scales with the panel,
 * no canvas sizing). Colours go from cool to hot relative to the largest value shown.
 */
export function createFloorPlan(parent: HTMLElement, floor: FloorStation[]): FloorPlan {
  const xs = floor.map((s) => s.x);
  const ys = floor.map((s) => s.y);
  const minX = Math.min(...xs) - PAD;
  const minY = Math.min(...ys) - PAD;
  const w = Math.max(...xs) - minX + PAD;
  const h = Math.max(...ys) - minY + PAD;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `${minX} ${minY} ${w} ${h}`);
  svg.setAttribute('class', 'floor');
  const r = Math.max(1.5, Math.min(w, h) / 18);
  const zoneLayer = document.createElementNS(NS, 'g');
  svg.append(zoneLayer);
  const zoneRects = new Map<string, { rect: SVGRectElement; label: SVGTextElement }>();
  for (const zone of new Set(floor.map((s) => s.zone.id))) {
    const mine = floor.filter((s) => s.zone.id === zone);
    const x0 = Math.min(...mine.map((s) => s.x)) - r * 1.6;
    const y0 = Math.min(...mine.map((s) => s.y)) - r * 1.6;
    const rect = document.createElementNS(NS, 'rect');
    rect.setAttribute('x', String(x0));
    rect.setAttribute('y', String(y0));
    rect.setAttribute('width', String(Math.max(...mine.map((s) => s.x)) - x0 + r * 1.6));
    rect.setAttribute('height', String(Math.max(...mine.map((s) => s.y)) - y0 + r * 1.6));
    rect.setAttribute('rx', String(r / 2));
    rect.setAttribute('class', 'zone');
    rect.dataset.zone = zone;
    const label = text(x0 + r * 0.2, y0 - r * 0.3, `zone ${zone}`, r * 0.7, 'zone-label');
    zoneLayer.append(rect, label);
    zoneRects.set(zone, { rect, label });
  }
  const nodes = new Map<string, { circle: SVGCircleElement; value: SVGTextElement }>();
  for (const s of floor) {
    const g = document.createElementNS(NS, 'g');
    g.dataset.station = s.id;
    const circle = document.createElementNS(NS, 'circle');
    circle.setAttribute('cx', String(s.x));
    circle.setAttribute('cy', String(s.y));
    circle.setAttribute('r', String(r));
    circle.setAttribute('class', 'station');
    const title = document.createElementNS(NS, 'title');
    title.textContent = `${s.name} (${s.id})`;
    circle.append(title);
    const value = text(s.x, s.y + r * 0.25, '', r * 0.75, 'station-value');
    g.append(circle, value, text(s.x, s.y + r * 1.8, s.id, r * 0.6, 'station-label'));
    svg.append(g);
    nodes.set(s.id, { circle, value });
  }
  parent.append(svg);
  return {
    svg,
    stations(values, unit = '', format = (v) => String(Math.round(v))) {
      const max = Math.max(Number.MIN_VALUE, ...values.values());
      for (const [id, n] of nodes) {
        const v = values.get(id) ?? 0;
        n.circle.style.fill = heat(v / max);
        n.value.textContent = `${format(v)}${unit}`;
        n.circle.parentElement!.dataset.value = String(v);
      }
    },
    zones(values, unit = '') {
      const vals = [...values.values()];
      const lo = Math.min(...vals);
      const hi = Math.max(...vals);
      for (const [id, z] of zoneRects) {
        const v = values.get(id);
        z.rect.style.fill = v === undefined ? '' : heat(hi > lo ? (v - lo) / (hi - lo) : 0.5, 0.55);
        z.rect.dataset.value = v === undefined ? '' : String(v);
        z.label.textContent = v === undefined ? `zone ${id}` : `zone ${id} · ${v.toFixed(1)}${unit}`;
      }
    },
    pulse(id) {
      const n = nodes.get(id);
      if (!n) return;
      n.circle.classList.remove('pulse');
      // Restart the CSS animation: reading layout between remove and add is what re-triggers it.
      void n.circle.getBoundingClientRect();
      n.circle.classList.add('pulse');
    },
  };
}

function text(x: number, y: number, s: string, size: number, cls: string): SVGTextElement {
  const t = document.createElementNS(NS, 'text');
  t.setAttribute('x', String(x));
  t.setAttribute('y', String(y));
  t.setAttribute('font-size', String(size));
  t.setAttribute('class', cls);
  t.textContent = s;
  return t;
}

/** 0 → teal, 1 → red, through amber. */
export function heat(f: number, alpha = 1): string {
  const t = Math.max(0, Math.min(1, Number.isFinite(f) ? f : 0));
  const hue = 170 - 170 * t;
  return `hsla(${hue.toFixed(0)}, 70%, ${45 + 5 * (1 - t)}%, ${alpha})`;
}
