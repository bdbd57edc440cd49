// {{name}}: who may sign up. A visitor is eligible for every candidate site (a site whose
// domain or address list matches the email) that has a licence free; change `decide` to your rule.
//
// Build: npm install && npm run build (componentize-js through jco).
// Config (`key = value` lines, set by the operator at install): `review-when-full` (default
// false): ask staff to review instead of refusing when every candidate is out of licences.

/** Reads the operator's config; every error message is shown to the operator as it is. */
function reviewWhenFull(config) {
  let value = false;
  config.split("\n").forEach((raw, i) => {
    const line = raw.split("#")[0].trim();
    if (!line) return;
    const [key, val = ""] = line.split("=").map((s) => s.trim());
    if (key !== "review-when-full") {
      throw `line ${i + 1}: unknown key \`${key}\`; the only key is \`review-when-full\``;
    }
    if (val !== "true" && val !== "false") {
      throw `line ${i + 1}: \`review-when-full\` is ${val}, expected true or false`;
    }
    value = val === "true";
  });
  return value;
}

export const eligibility = {
  info() {
    return { name: "{{name}}", version: "0.1.0", summary: "Sign-up for sites that match the email and have a licence free" };
  },

  // Throwing a string answers `err` with it.
  validateConfig(config) {
    reviewWhenFull(config);
  },

  // What `reviewWhenFull` reads, so the operators' console shows a form instead of a text box.
  describeConfig() {
    return [
      {
        key: "review-when-full",
        label: "Review when full",
        help: "Ask staff to review a sign-up, instead of refusing it, when every matching site is out of licences.",
        kind: { tag: "boolean", val: false },
      },
    ];
  },

  // Site ids are u64: BigInt values in JavaScript.
  decide(config, request) {
    if (request.candidates.length === 0) {
      return { tag: "ineligible", val: `No customer site is registered for ${request.domain}.` };
    }
    const open = request.candidates.filter((c) => c.activeLicences > 0).map((c) => c.siteId);
    if (open.length > 0) return { tag: "eligible", val: open };
    if (reviewWhenFull(config)) return { tag: "needs-review", val: "Every matching site is out of licences." };
    return { tag: "ineligible", val: "Every matching site is out of licences." };
  },
};
