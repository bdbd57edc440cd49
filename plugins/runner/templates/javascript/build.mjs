// Builds the component with componentize-js. A rule plugin decides from its inputs: the clock,
// randomness and the network are disabled (the help desk refuses components that import
// wasi:http). Standard output and error stay: an uncaught error, a TypeError or a wrong variant
// tag is printed there with its plugin.js line, and console.log works; the help desk keeps
// what a call prints (bounded) and shows it with the call.
import { componentize } from "@bytecodealliance/componentize-js";
import { writeFile } from "node:fs/promises";

const [source, wit, world, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath: source,
  witPath: wit,
  worldName: world,
  disableFeatures: ["random", "clocks", "http", "fetch-event"],
});
await writeFile(out, component);
console.log(`built ${out} (${(component.length / 1048576).toFixed(1)} MiB)`);
