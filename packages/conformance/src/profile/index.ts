/**
 * Profiles: an AP's API described in JSON (see docs/conformance.md).
 * @module
 */
export { lastName, parsePointer, readPointer, writePointer } from "./pointer.ts";
export { referenceProfile } from "./reference.ts";
export type { RenderedRequest, RequestTemplate, TemplateVars } from "./template.ts";
export { placeholdersOf, pointerOfPlaceholder, renderTemplate } from "./template.ts";
export type { Profile, SavingTemplate } from "./types.ts";
export { PAYMENT_PLACEHOLDERS, ProfileError, parseProfile, validateProfile } from "./validate.ts";
