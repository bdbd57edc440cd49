// Builds the component with componentize-js. Every WASI feature is disabled: a rule plugin
// decides from its inputs, and the help desk refuses components that import wasi:http.
import { componentize } from "@bytecodealliance/componentize-js";
import { writeFile } from "node:fs/promises";

const [source, wit, world, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath: source,
  witPath: wit,
  worldName: world,
  disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
});
await writeFile(out, component);
console.log(`built ${out} (${(component.length / 1048576).toFixed(1)} MiB)`);
