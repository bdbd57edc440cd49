-- A sign-up the eligibility plugin sent to staff for review: the account waits in state
-- `awaiting_review`, with the plugin's reason, until an operator approves it (for a site) or
-- refuses it. Nullable: the previous release ignores it.
ALTER TABLE users ADD COLUMN review_reason TEXT;
