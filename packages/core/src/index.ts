/**
 * `@klarna-interop/core`: extract, decode, verify and act on Klarna interoperability tokens and data,
 * and build Klarna requests that forward them untouched. Pure: no I/O except the verifier's JWKS fetch.
 * @module
 */
export type * from "./types.ts";
