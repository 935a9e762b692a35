/** The interoperability summary a payment shows (`klarna.interoperability`), for both generations. */
import type { ExtractedValue, TokenInspection } from "@klarna-interop/core";
import type { InteroperabilitySummary } from "./serialize.ts";

/** First generation: what core's token inspection (or Klarna's lookup) said. */
export function summarize(
  inspection: TokenInspection | undefined,
  token: ExtractedValue | undefined,
  data: ExtractedValue | undefined,
): InteroperabilitySummary {
  const summary: InteroperabilitySummary = inspection
    ? {
        form: inspection.form,
        verified: inspection.verified,
        status: inspection.status,
        action: inspection.action,
      }
    : { form: "none", verified: false, status: null, action: "show" };
  if (inspection?.reason) summary.reason = inspection.reason;
  if (token) summary.token_field = token.pointer;
  if (data) summary.data_field = data.pointer;
  return summary;
}

/** `network`: the token is forwarded and Klarna decides; nothing is read from it. */
export function networkSummary(
  token: ExtractedValue | undefined,
  data: ExtractedValue | undefined,
): InteroperabilitySummary {
  const jwtLike = token !== undefined && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token.value);
  const summary: InteroperabilitySummary = {
    form: token === undefined ? "none" : jwtLike ? "jwt" : "opaque",
    verified: false,
    status: null,
    action: "klarna_decides",
  };
  if (token) summary.token_field = token.pointer;
  if (data) summary.data_field = data.pointer;
  return summary;
}
