-- The change feed: one row per change to a case, transfer or budget, written in
-- the same transaction as the change. A reader returns only rows of
-- transactions older than every transaction still running
-- (pg_snapshot_xmin), ordered by (txid, id), so a cursor that moves forward
-- never passes a row that has yet to commit: nothing is missed, nothing repeats.
CREATE TABLE change_events (
    txid                bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    entity_type         text NOT NULL CHECK (entity_type IN ('case', 'transfer', 'budget')),
    entity_id           uuid NOT NULL,
    action              text NOT NULL,
    -- What the access policy needs to decide who may see the event.
    handling_province   text,
    origin_region       text,
    source_agency_id    uuid,
    destination_region  text,
    receiving_agency_id uuid,
    out_of_province     boolean,
    budget_source       text,
    budget_owner_id     uuid,
    budget_province     text,
    data                jsonb,
    PRIMARY KEY (txid, id)
);
