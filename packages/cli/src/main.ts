/**
 * Entry point of the `klarna-interop` binary (see ../bin/klarna-interop.js).
 * Sets the exit status rather than calling process.exit, so servers started by a command keep running
 * and pending output is flushed.
 * @module
 */
import { runCli } from "./cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
