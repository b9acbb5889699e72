import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics, one registry per app (tests run several apps in one process).
 * Features add gauges that are computed on scrape with `addGauge`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsReceived: Counter<'platform' | 'kind'>;
  readonly eventsDuplicate: Counter<'platform' | 'kind'>;
  readonly handlerSeconds: Histogram<'kind' | 'name' | 'outcome'>;
  readonly sends: Counter<'platform' | 'outcome'>;

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults) collectDefaultMetrics({ register: this.registry, prefix: 'qinglian_' });
    this.eventsReceived = new Counter({ name: 'qinglian_events_received_total', help: 'Platform events received, by platform and kind', labelNames: ['platform', 'kind'], registers: [this.registry] });
    this.eventsDuplicate = new Counter({ name: 'qinglian_events_duplicate_total', help: 'Redelivered platform events dropped', labelNames: ['platform', 'kind'], registers: [this.registry] });
    this.handlerSeconds = new Histogram({
      name: 'qinglian_handler_seconds',
      help: 'Time from event received to reply ready, by command or action',
      labelNames: ['kind', 'name', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.sends = new Counter({ name: 'qinglian_sends_total', help: 'Outbound sends by platform and outcome (ok, retried, throttled, failed)', labelNames: ['platform', 'outcome'], registers: [this.registry] });
  }

  /**
   * The audit log's hash-chain head, so a monitoring system keeps an independent copy of it:
   * a later head that does not extend an earlier one means the past was rewritten.
   */
  addAuditChain(read: () => Promise<{ seq: number; hash: string } | undefined>): void {
    new Gauge({
      name: 'qinglian_audit_chain_length',
      help: 'Rows in the audit log hash chain (the head sequence number)',
      registers: [this.registry],
      async collect() {
        const h = await read().catch(() => null);
        if (h !== null) this.set(h?.seq ?? 0);
      },
    });
    new Gauge({
      name: 'qinglian_audit_chain_head',
      help: 'Hash of the audit log chain head (always 1; the hash and seq are labels)',
      labelNames: ['hash', 'seq'],
      registers: [this.registry],
      async collect() {
        const h = await read().catch(() => undefined);
        // One series only: the previous head must not linger beside the new one.
        this.reset();
        if (h) this.set({ hash: h.hash, seq: String(h.seq) }, 1);
      },
    });
  }

  /** A gauge whose value is read when Prometheus scrapes (queue depth, approvals pending). */
  addGauge(name: string, help: string, read: () => Promise<number | Record<string, number>>, labelName = 'kind'): void {
    new Gauge({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      async collect() {
        const v = await read().catch(() => undefined);
        if (v === undefined) return;
        if (typeof v === 'number') this.set(v);
        else for (const [k, n] of Object.entries(v)) this.set({ [labelName]: k }, n);
      },
    });
  }
}
