#!/usr/bin/env node
// Launcher. Installed from the registry (under node_modules, where Node does not strip types) it
// runs the compiled CLI in ../lib. In the repository it runs the TypeScript sources, and resolves
// the other @klarna-interop packages to their sources too (the "@klarna-interop/source" export
// condition), so no build is needed there. See docs/development.md.
const installed = /[\\/]node_modules[\\/]/.test(decodeURIComponent(new URL(import.meta.url).pathname));
if (installed) {
  await import("../lib/main.js");
} else {
  const { registerHooks } = await import("node:module"); // Node ≥ 22.15; the repository pins 24
  const condition = "@klarna-interop/source";
  registerHooks({
    resolve: (specifier, context, next) =>
      context.conditions.includes(condition)
        ? next(specifier, context)
        : next(specifier, { ...context, conditions: [...context.conditions, condition] }),
  });
  await import("../src/main.ts");
}
