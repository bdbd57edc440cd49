// {{name}}: a ticket workflow with three statuses (open, waiting, closed); change `STATUSES`,
// `canTransition` and `react` to your process. `react` answers every event on a request with
// actions: here, a staff reply to an open request waits on the customer and sets two timers: one
// reminds the customer by email after three days of silence, the other closes the request after a
// week; the customer's reply opens it again and cancels both. A new request without a type whose
// subject mentions an outage becomes an Incident (one of the types operators keep).
//
// Build: npm install && npm run build (componentize-js through jco).
// Config (`key = value` lines, set by the operator at install): `customers-close` (default
// true): whether customers may close their own requests.

const STATUSES = [
  { key: "open", label: "Open", open: true, initial: true },
  { key: "waiting", label: "Waiting on customer", open: true, initial: false },
  { key: "closed", label: "Closed", open: false, initial: false },
];

// The timers a staff reply sets: one reminds the customer of a request still waiting on them, the
// other closes it.
const REMIND = "remind";
const CLOSE_IF_SILENT = "close-if-silent";

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

  // Asked only of workflows built against contracts older than 0.4: the host asks this one
  // `react`. Returning undefined answers `none`.
  onEvent(_config, _context) {
    return undefined;
  },

  // A variant is `{ tag, val }`; u64 numbers (`afterSeconds`, times) are BigInts.
  react(_config, event, request) {
    // An option the host leaves out (`none`) is undefined.
    if (event.tag === "created" && request.requestType == null && request.subject.toLowerCase().includes("outage")) {
      return [{ tag: "set-type", val: "Incident" }];
    }
    if (event.tag === "staff-replied" && request.status === "open") {
      return [
        { tag: "set-status", val: "waiting" },
        { tag: "set-timer", val: { name: REMIND, afterSeconds: 3n * 86400n } },
        { tag: "set-timer", val: { name: CLOSE_IF_SILENT, afterSeconds: 7n * 86400n } },
      ];
    }
    if (event.tag === "customer-replied" && (request.status === "waiting" || request.status === "closed")) {
      return [
        { tag: "set-status", val: "open" },
        { tag: "cancel-timer", val: REMIND },
        { tag: "cancel-timer", val: CLOSE_IF_SILENT },
      ];
    }
    // The host fills in {name}, {number}, {subject} and {link}; add a wording per language your
    // customers read.
    if (event.tag === "timer" && event.val === REMIND && request.status === "waiting") {
      const wording = {
        language: "en",
        subject: "Waiting for your answer: {subject}",
        body: "Hello {name}, we are waiting for your answer to {number}. Without one, it closes in four days.",
      };
      return [{ tag: "send-email", val: { to: [{ tag: "requester" }], wordings: [wording] } }];
    }
    if (event.tag === "timer" && event.val === CLOSE_IF_SILENT && request.status === "waiting") {
      return [{ tag: "set-status", val: "closed" }];
    }
    return [];
  },
};
