/**
 * `@klarna-interop/core`: extract, decode, verify and act on Klarna interoperability tokens and data,
 * and build Klarna requests that forward them untouched. Pure: no I/O except the verifier's JWKS fetch.
 *
 * Minting and dev keys live in the separate entry points `@klarna-interop/core/mint` and
 * `@klarna-interop/core/dev-keys`: an Acquiring Partner never needs them in production.
 * @module
 */
// Everything that runs anywhere (browser.ts), plus what needs Node: signature verification.
export * from "./browser.ts";
export { createTokenVerifier, type TokenVerifierExtraOptions, type VerifierFailure } from "./verify.ts";
