-- Changes that every replica should hear of at once are announced on the channel
-- `helpdesk_plugin_slots`, delivered when the change commits: a slot's active plugin changed
-- (payload: the slot), so each replica reloads it; a component was installed (payload:
-- `installed:<id>`), so each replica compiles it ahead of its activation. Replicas still look
-- every few seconds, in case a notification is missed.
CREATE FUNCTION helpdesk_notify_plugin_slot() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('helpdesk_plugin_slots', NEW.slot);
    RETURN NEW;
END
$$;

CREATE TRIGGER plugin_slots_notify AFTER INSERT OR UPDATE ON plugin_slots
    FOR EACH ROW EXECUTE FUNCTION helpdesk_notify_plugin_slot();

CREATE FUNCTION helpdesk_notify_plugin_installed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('helpdesk_plugin_slots', 'installed:' || NEW.id);
    RETURN NEW;
END
$$;

CREATE TRIGGER plugins_notify AFTER INSERT ON plugins
    FOR EACH ROW EXECUTE FUNCTION helpdesk_notify_plugin_installed();
