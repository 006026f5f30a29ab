"""invoices and receipts: on PostgreSQL the database numbers them as their transaction commits

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:40:00

A deferred constraint trigger per table runs inside COMMIT: it locks both counter rows (in name
order, as every numbering transaction does, so two never wait for each other), takes the next
number and writes it on the document. The counters are then held only while the commit itself
runs, never across a round trip to the application (see core.numbering). SQLite numbers in
the application's before-commit hook, as before: its one writer at a time makes that serial
anyway.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# OR REPLACE: pg_restore --clean of a backup from before 0023 into a database `mteja init` had
# migrated drops the tables (and their triggers) but not this function, which that archive does
# not hold; the `mteja init` that then migrates the restored database must not trip over it.
FUNCTION = """
CREATE OR REPLACE FUNCTION mteja_number_document() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken integer;
    still_unnumbered boolean;
    counters integer;
BEGIN
    -- A document removed (or numbered) later in its own transaction takes no number: no gap.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1 AND number IS NULL)',
                   TG_TABLE_NAME)
        INTO still_unnumbered USING NEW.id;
    IF NOT still_unnumbered THEN
        RETURN NULL;
    END IF;
    -- Both counters, in name order, whichever this document needs: a payment (receipt, then
    -- invoice) and a sign-up (invoice, then receipt) never each hold what the other waits for.
    PERFORM 1 FROM document_counters
        WHERE name IN ('invoice', 'receipt') ORDER BY name FOR UPDATE;
    GET DIAGNOSTICS counters = ROW_COUNT;
    IF counters < 2 THEN
        -- A new database: make both rows (in name order too), then lock them as above.
        INSERT INTO document_counters (name, last_number)
            VALUES ('invoice', 0), ('receipt', 0) ON CONFLICT (name) DO NOTHING;
        PERFORM 1 FROM document_counters
            WHERE name IN ('invoice', 'receipt') ORDER BY name FOR UPDATE;
    END IF;
    UPDATE document_counters SET last_number = last_number + 1
        WHERE name = TG_ARGV[0] RETURNING last_number INTO taken;
    EXECUTE format('UPDATE %I SET number = $1 WHERE id = $2', TG_TABLE_NAME)
        USING taken, NEW.id;
    RETURN NULL;
END
$$
"""

TABLES = {"invoices": "invoice", "receipts": "receipt"}


# Documents stored unnumbered by code that already left numbering to the database while the
# schema was still older (processes started before `mteja init`) are numbered now, in the order
# they were made, after what the counters already gave.
NUMBER_LEFTOVERS = """
INSERT INTO document_counters (name, last_number)
    SELECT '{sequence}', 0 WHERE EXISTS (SELECT 1 FROM {table} WHERE number IS NULL)
    ON CONFLICT (name) DO NOTHING;
WITH leftover AS (
    SELECT id, row_number() OVER (ORDER BY id) AS position FROM {table} WHERE number IS NULL
), counter AS (
    SELECT last_number FROM document_counters WHERE name = '{sequence}' FOR UPDATE
)
UPDATE {table} SET number = counter.last_number + leftover.position
    FROM leftover, counter WHERE {table}.id = leftover.id;
UPDATE document_counters
    SET last_number = (SELECT coalesce(max(number), 0) FROM {table})
    WHERE name = '{sequence}' AND last_number < (SELECT coalesce(max(number), 0) FROM {table});
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE document_counters IN EXCLUSIVE MODE")
    for table, sequence in TABLES.items():
        for statement in NUMBER_LEFTOVERS.format(table=table, sequence=sequence).split(";"):
            if statement.strip():
                op.execute(statement)
    op.execute(FUNCTION)
    for table, sequence in TABLES.items():
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_numbered_at_commit AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.number IS NULL) "
            f"EXECUTE FUNCTION mteja_number_document('{sequence}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_numbered_at_commit ON {table}")
    op.execute("DROP FUNCTION IF EXISTS mteja_number_document()")
