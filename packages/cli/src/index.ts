/**
 * `@klarna-interop/cli` as a library: the dispatcher behind the `klarna-interop` binary.
 * @module
 */
export { type CliOptions, type CommandModule, commandNames, runCli } from "./cli.ts";
