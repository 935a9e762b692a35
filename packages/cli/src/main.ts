import { hello } from "@klarna-interop/core";

console.log(hello(), process.version);
