-- Shadow mode: a candidate put in shadow for a slot is asked every live decision of that slot
-- beside the active plugin, off the request path. `asked` and `disagreed` add up what every
-- replica compared since `started_at`; each disagreement is a row of `plugin_decisions` by the
-- shadow, carrying the live plugin's answer beside its own.
CREATE TABLE plugin_shadows (
    slot TEXT PRIMARY KEY,
    plugin_id BIGINT NOT NULL REFERENCES plugins (id),
    started_at BIGINT NOT NULL,
    started_by TEXT NOT NULL,
    asked BIGINT NOT NULL DEFAULT 0,
    disagreed BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE plugin_decisions ADD COLUMN live_plugin_id BIGINT;
ALTER TABLE plugin_decisions ADD COLUMN live_outcome TEXT;
ALTER TABLE plugin_decisions ADD COLUMN live_answer TEXT;
CREATE INDEX plugin_decisions_disagreements ON plugin_decisions (plugin_id, id)
    WHERE live_plugin_id IS NOT NULL;

-- A shadow started, replaced or stopped is announced like a slot's change (payload
-- `shadow:<slot>`), so every replica starts or stops asking it at once. Counting (`asked`,
-- `disagreed`) is not announced.
CREATE FUNCTION helpdesk_notify_plugin_shadow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('helpdesk_plugin_slots', 'shadow:' || OLD.slot);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('helpdesk_plugin_slots', 'shadow:' || NEW.slot);
    RETURN NEW;
END
$$;

CREATE TRIGGER plugin_shadows_notify AFTER INSERT OR DELETE OR UPDATE OF plugin_id, started_at
    ON plugin_shadows FOR EACH ROW EXECUTE FUNCTION helpdesk_notify_plugin_shadow();
