/**
 * Reading what Klarna's plugin left on the Vendure order (the "platform session" of the seed), and
 * deciding whether it may be sent to the gateway: pure functions, no Vendure runtime needed.
 *
 * The values are taken exactly as stored (never trimmed, decoded or re-encoded). A value the gateway
 * would refuse is refused here first, with a message naming the field, so that nothing is sent: not a
 * string, empty, longer than core's limits (8,192 / 10,240 characters), not well-formed text (U+0000,
 * a lone surrogate), or a token that cannot travel unaltered in an HTTP header (Klarna's current flow
 * sends it in `Klarna-Network-Session-Token`).
 * @module
 */
import {
  extractKlarnaOptions,
  findTextProblems,
  headerSafetyProblem,
  type KlarnaHandoff,
  PLATFORM_DATA_KEY,
  PLATFORM_TOKEN_KEY,
} from "@klarna-interop/core/browser";

/** Where a value came from: the order's custom fields (Klarna's plugin) or the payment's metadata. */
export type HandoffSource = "order" | "metadata";

export type HandoffResult =
  | { ok: true; handoff: KlarnaHandoff; source: HandoffSource | undefined }
  | { ok: false; message: string };

/** Treats the ways a platform "clears" a value (absent, `null`, empty string) as nothing to forward. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/**
 * Picks the token and data for a payment: the storefront's own values in the payment metadata
 * (`addPaymentToOrder(input: { metadata })`, e.g. from Klarna's web SDK on the page) win; otherwise,
 * when `useOrderFields` is on, the values Klarna's plugin stored on the order.
 */
export function pickHandoff(
  orderFields: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> | undefined,
  useOrderFields: boolean,
): HandoffResult {
  const fromMetadata =
    metadata && (present(metadata[PLATFORM_TOKEN_KEY]) || present(metadata[PLATFORM_DATA_KEY]));
  const fromOrder =
    useOrderFields &&
    orderFields &&
    (present(orderFields[PLATFORM_TOKEN_KEY]) || present(orderFields[PLATFORM_DATA_KEY]));
  const source: HandoffSource | undefined = fromMetadata ? "metadata" : fromOrder ? "order" : undefined;
  if (source === undefined) return { ok: true, handoff: {}, source };
  const values = (source === "metadata" ? metadata : orderFields) as Record<string, unknown>;
  return checkHandoff(values[PLATFORM_TOKEN_KEY], values[PLATFORM_DATA_KEY], source);
}

/** Checks raw values against the gateway's rules; the values returned are the very ones given. */
export function checkHandoff(token: unknown, data: unknown, source: HandoffSource = "order"): HandoffResult {
  const where = source === "order" ? "order custom field" : "payment metadata";
  const klarna: Record<string, unknown> = {};
  if (present(token)) klarna[PLATFORM_TOKEN_KEY] = token;
  if (present(data)) klarna[PLATFORM_DATA_KEY] = data;
  // Core's extractor applies the same type, emptiness and length rules as the gateway.
  const extracted = extractKlarnaOptions({ payment_method_options: { klarna } });
  if (!extracted.ok) {
    const first = extracted.errors[0];
    const name = first?.pointer.split("/").at(-1) ?? PLATFORM_TOKEN_KEY;
    return {
      ok: false,
      message: `Klarna: the ${where} ${name} ${reasonOf(first?.message ?? "is invalid", name)}`,
    };
  }
  for (const [name, value] of Object.entries(klarna)) {
    const problem = findTextProblems(value)[0];
    if (problem)
      return { ok: false, message: `Klarna: the ${where} ${name} ${reasonOf(problem.message, "")}` };
  }
  if (extracted.token) {
    const problem = headerSafetyProblem(extracted.token.value);
    if (problem) return { ok: false, message: `Klarna: the ${where} ${PLATFORM_TOKEN_KEY} ${problem}` };
  }
  const handoff: KlarnaHandoff = {};
  if (extracted.token) handoff.token = extracted.token.value;
  if (extracted.data) handoff.data = extracted.data.value;
  return { ok: true, handoff, source };
}

/** Core's messages start with the pointer; keep the sentence after it. */
function reasonOf(message: string, name: string): string {
  const colon = message.indexOf(": ");
  if (colon >= 0 && colon < 120) return message.slice(colon + 2);
  const at = name ? message.indexOf(name) : -1;
  return at >= 0 ? message.slice(at + name.length).trim() : message;
}
