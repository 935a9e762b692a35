/**
 * The sandbox event bus. Domain code emits Klarna notification events here (payment request state
 * changes, transaction events); the webhook dispatcher subscribes and turns them into signed deliveries.
 * Emitting never throws and never waits: a failing listener must not break the request that caused it.
 */
export interface SandboxEvent {
  /** Klarna event type, e.g. `payment.request.state-change.authorized`. */
  event_type: string;
  /** The event payload (for payment requests: the PaymentRequest as the API returns it). */
  payload: unknown;
  /** Sandbox time of the event, ISO-8601. */
  occurred_at: string;
  /** Klarna-Correlation-Id of the request that caused it, when there was one. */
  correlation_id?: string;
}

export type EventListener = (event: SandboxEvent) => void;

export interface EventBus {
  emit(eventType: string, payload: unknown, correlationId?: string): void;
  /** Subscribes; returns an unsubscribe function. */
  subscribe(listener: EventListener): () => void;
}

/** Creates a bus stamping events with `isoNow()` (the sandbox clock); `onListenerError` sees listener failures. */
export function createEventBus(isoNow: () => string, onListenerError?: (error: unknown) => void): EventBus {
  const listeners = new Set<EventListener>();
  return {
    emit(eventType, payload, correlationId) {
      if (listeners.size === 0) return;
      const event: SandboxEvent = { event_type: eventType, payload, occurred_at: isoNow() };
      if (correlationId !== undefined) event.correlation_id = correlationId;
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError?.(error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Event type for a payment request state: `payment.request.state-change.pending-confirmation`. */
export function paymentRequestEventType(state: string): string {
  return `payment.request.state-change.${state.toLowerCase().replaceAll("_", "-")}`;
}
