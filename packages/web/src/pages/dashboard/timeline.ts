/**
 * One-line summaries of a payment's timeline entries (GET /v2/payments/{id}/events). Pure, so it is
 * unit-tested; unknown entry types fall back to their type name, and the full detail is always shown too.
 */
export interface TimelineEvent {
  type: string;
  detail?: Record<string, unknown> | null;
}

const str = (v: unknown): string | undefined =>
  typeof v === "string" || typeof v === "number" ? String(v) : undefined;

/** A short human headline for one entry, e.g. "requires_action → authorized". */
export function timelineHeadline(event: TimelineEvent): string {
  const d = event.detail ?? {};
  switch (event.type) {
    case "state_changed":
      return `${str(d.from) ?? "created"} → ${str(d.to) ?? "?"}`;
    case "klarna_call": {
      const status = str(d.status) ?? "no answer";
      const outcome = str(d.outcome);
      const correlation = str(d.correlation_id);
      return `Klarna ${str(d.method) ?? ""} ${str(d.path) ?? str(d.operation) ?? ""} → ${status}${
        outcome ? ` (${outcome})` : ""
      }${correlation ? ` · correlation ${correlation}` : ""}`.replace(/\s+/g, " ");
    }
    case "klarna_state":
      return `Klarna reported ${str(d.state) ?? "a new state"}${str(d.event_id) ? ` (event ${str(d.event_id)})` : ""}`;
    default: {
      const eventType = str(d.event_type);
      const status = str(d.status_code) ?? str(d.status);
      if (/webhook/i.test(event.type)) {
        return `Webhook ${eventType ?? ""}${status ? ` → ${status}` : ""}`.replace(/\s+/g, " ").trim();
      }
      return event.type.replaceAll("_", " ");
    }
  }
}
