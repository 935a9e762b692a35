/**
 * The Klarna side's stand-in: where a Klarna-owned Vendure plugin keeps what Klarna handed the
 * storefront. Vendure's own extension point for per-order data is custom fields, so the token and
 * data are two `text` custom fields of the Order named exactly `klarna_interoperability_token` and
 * `klarna_interoperability_data` (the names Klarna's guide for plugins uses for session storage).
 *
 * They are `public`, so the storefront writes them with Vendure's standard shop mutation each time
 * Klarna gives it a new token (the web SDK's `tokenupdate`):
 *
 *     mutation { setOrderCustomFields(input: { customFields: {
 *       klarna_interoperability_token: "<exactly as Klarna gave it>" } }) { ... on Order { id } } }
 *
 * `text` (not `string`, which is 255 characters in SQL) holds core's limits (8,192 / 10,240
 * characters). The fields store whatever Klarna's plugin wrote, unaltered and unjudged: the AP's
 * payment handler checks the values at the last step and gives the order a clear error naming the
 * field (see handoff.ts), so a problem is never hidden by "fixing" it on the way in.
 * @module
 */
import { PLATFORM_DATA_KEY, PLATFORM_TOKEN_KEY } from "@klarna-interop/core/browser";
import { type CustomFieldConfig, LanguageCode } from "@vendure/core";

export const klarnaOrderCustomFields: CustomFieldConfig[] = [
  {
    name: PLATFORM_TOKEN_KEY,
    type: "text",
    public: true,
    nullable: true,
    label: [{ languageCode: LanguageCode.en, value: "Klarna interoperability token" }],
    description: [{ languageCode: LanguageCode.en, value: "Stored by Klarna's plugin; forwarded unaltered" }],
  },
  {
    name: PLATFORM_DATA_KEY,
    type: "text",
    public: true,
    nullable: true,
    label: [{ languageCode: LanguageCode.en, value: "Klarna interoperability data" }],
    description: [{ languageCode: LanguageCode.en, value: "Stored by Klarna's plugin; forwarded unaltered" }],
  },
];
