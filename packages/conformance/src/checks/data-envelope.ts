import type { Check } from "../check.ts";
import { paymentBody } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** Strings that are not a `{content_type: string, content: object}` envelope. */
const MALFORMED: ReadonlyArray<{ label: string; data: string }> = [
  { label: "not JSON", data: '{"content_type": "vnd.klarna.supplementary-data.v2", "content": {' },
  { label: "JSON array", data: '[{"content_type":"vnd.klarna.supplementary-data.v2","content":{}}]' },
  { label: "JSON string", data: '"vnd.klarna.supplementary-data.v2"' },
  { label: "content_type missing", data: '{"content":{"customer":{}}}' },
  { label: "content missing", data: '{"content_type":"vnd.klarna.supplementary-data.v2"}' },
  { label: "content_type not a string", data: '{"content_type":2,"content":{}}' },
  {
    label: "content not an object",
    data: '{"content_type":"vnd.klarna.supplementary-data.v2","content":"{}"}',
  },
];

/** D8: a malformed interoperability_data envelope is refused (400), and nothing reaches Klarna. */
export const dataEnvelope: Check = {
  id: "data-envelope",
  rule: "D8",
  title: "Malformed data envelope refused",
  async run(ctx) {
    return expectAllRejected(
      ctx,
      MALFORMED.map(({ label, data }) => ({
        label,
        body: paymentBody(ctx, "data-envelope", [[ctx.dataField, data]]),
        fields: [ctx.dataField.name],
      })),
    );
  },
};
