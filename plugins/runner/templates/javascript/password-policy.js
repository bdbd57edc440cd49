// {{name}}: a password policy. It asks for a long passphrase; change `check` to your rule.
//
// Build: npm install && npm run build (componentize-js through jco).
// Config (`key = value` lines, set by the operator at install): `min-length` (default 12).

import { write } from "helpdesk:plugins/log@0.6.0";

/** Reads the operator's config; every error message is shown to the operator as it is. */
function minLength(config) {
  let value = 12;
  config.split("\n").forEach((raw, i) => {
    const line = raw.split("#")[0].trim();
    if (!line) return;
    const [key, val = ""] = line.split("=").map((s) => s.trim());
    if (key !== "min-length") {
      throw `line ${i + 1}: unknown key \`${key}\`; the only key is \`min-length\``;
    }
    const n = Number(val);
    if (!/^\d+$/.test(val) || n < 1 || n > 256) {
      throw `line ${i + 1}: \`min-length\` is ${val}, expected 1 to 256`;
    }
    value = n;
  });
  return value;
}

export const passwordRules = {
  info() {
    return { name: "{{name}}", version: "0.1.0", summary: "Any passphrase of at least 12 characters" };
  },

  // Throwing a string answers `err` with it.
  validateConfig(config) {
    minLength(config);
  },

  // What `minLength` reads, so the operators' console shows a form instead of a text box.
  // An s64 is a BigInt in JavaScript; returning undefined would mean "free text".
  describeConfig() {
    return [
      {
        key: "min-length",
        label: "Minimum length",
        help: "The fewest characters a passphrase may have.",
        kind: { tag: "integer", val: { default: 12n, min: 1n, max: 256n } },
      },
    ];
  },

  check(config, password, _context) {
    const least = minLength(config);
    const length = [...password].length;
    if (length >= least) return { tag: "accepted" };
    // Never log the password itself: logs reach the operator.
    write("debug", `${length} characters, ${least} needed`);
    return {
      tag: "rejected",
      val: [{ code: "too-short", message: `Use at least ${least} characters; a few words make a good passphrase.` }],
    };
  },

  requirements(config) {
    return `Use at least ${minLength(config)} characters; a few unrelated words make a strong, memorable passphrase.`;
  },
};
