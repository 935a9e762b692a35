import { randomUUID } from "node:crypto";
import type { Check } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody, UNKNOWN_CONTENT_TYPE } from "../payloads.ts";

/**
 * Data strings that any JSON re-serialisation would change: escapes, non-ASCII text, odd
 * whitespace, number spellings, key order and duplicate keys. Each embeds a fresh id.
 */
function variants(): Array<{ label: string; data: string }> {
  const id = () => randomUUID();
  return [
    {
      label: "unicode text",
      data: `{"content_type":"vnd.klarna.supplementary-data.v2","content":{"customer":{"given_name":"Klära 😀","family_name":"Åström-Ñúñez עברית e\u0301"},"id":"${id()}"}}`,
    },
    {
      label: "escape sequences",
      data: `{"content_type":"vnd.klarna.supplementary-data.v2","content":{"note":"\\u00e9\\u00E9 \\/ \\" \\\\ \\n\\t\\ud83d\\ude00","id":"${id()}"}}`,
    },
    {
      label: "odd whitespace",
      data: `\t{ "content_type" :\r\n "vnd.klarna.supplementary-data.v2",\n\n  "content": {  "a" : [ 1 ,2 ] ,"id":"${id()}" }   }\n `,
    },
    {
      label: "number spellings, key order and duplicate keys",
      data: `{"content":{"z":1.50,"a":1e3,"n":-0,"big":12345678901234567890,"d":"x","d":"y","id":"${id()}"},"content_type":"vnd.klarna.supplementary-data.v2"}`,
    },
    {
      label: "unknown content type",
      data: `{"content_type":"${UNKNOWN_CONTENT_TYPE}","content":{"anything":{"goes":[true,null]},"id":"${id()}"}}`,
    },
  ];
}

/** D3: interoperability_data is forwarded character for character, however it is spelled. */
export const forwardDataExact: Check = {
  id: "forward-data-exact",
  rule: "D3",
  title: "Data forwarded byte for byte (unicode, escapes, whitespace)",
  async run(ctx) {
    const cases = variants();
    return eachCase(
      cases,
      (c) => c.label,
      async ({ label, data }) => {
        const body = paymentBody(ctx, "data-exact", [[ctx.dataField, data]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, label);
        expectForwarded(calls, label, { data });
      },
      `${cases.length} data spellings forwarded unchanged`,
    );
  },
};
