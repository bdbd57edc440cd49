// {{name}}: a ticket workflow with three statuses (open, waiting, closed); change `STATUSES`,
// `canTransition` and `onEvent` to your process.
//
// Build: npm install && npm run build (componentize-js through jco).
// Config (`key = value` lines, set by the operator at install): `customers-close` (default
// true): whether customers may close their own requests.

const STATUSES = [
  { key: "open", label: "Open", open: true, initial: true },
  { key: "waiting", label: "Waiting on customer", open: true, initial: false },
  { key: "closed", label: "Closed", open: false, initial: false },
];

/** Reads the operator's config; every error message is shown to the operator as it is. */
function customersClose(config) {
  let value = true;
  config.split("\n").forEach((raw, i) => {
    const line = raw.split("#")[0].trim();
    if (!line) return;
    const [key, val = ""] = line.split("=").map((s) => s.trim());
    if (key !== "customers-close") {
      throw `line ${i + 1}: unknown key \`${key}\`; the only key is \`customers-close\``;
    }
    if (val !== "true" && val !== "false") {
      throw `line ${i + 1}: \`customers-close\` is ${val}, expected true or false`;
    }
    value = val === "true";
  });
  return value;
}

export const workflow = {
  info() {
    return { name: "{{name}}", version: "0.1.0", summary: "Open, waiting on customer, closed" };
  },

  // Throwing a string answers `err` with it.
  validateConfig(config) {
    customersClose(config);
  },

  // What `customersClose` reads, so the operators' console shows a form instead of a text box.
  describeConfig() {
    return [
      {
        key: "customers-close",
        label: "Customers may close",
        help: "Let customers close their own requests.",
        kind: { tag: "boolean", val: true },
      },
    ];
  },

  statuses(_config) {
    return STATUSES;
  },

  // `seconds-in-status` is a u64: a BigInt in JavaScript.
  canTransition(config, request) {
    if (!STATUSES.some((s) => s.key === request.to) || request.from === request.to) {
      return { tag: "refused", val: `Cannot move to "${request.to}".` };
    }
    if (request.actor === "customer" || request.actor === "site-admin") {
      if (request.to === "closed" && customersClose(config)) return { tag: "allowed" };
      return { tag: "refused", val: "Only staff can do that." };
    }
    return { tag: "allowed" };
  },

  // Returning undefined answers `none`.
  onEvent(_config, context) {
    if (context.event === "agent-replied" && context.status === "open") return "waiting";
    if (context.event === "customer-replied" && (context.status === "waiting" || context.status === "closed")) return "open";
    return undefined;
  },
};
