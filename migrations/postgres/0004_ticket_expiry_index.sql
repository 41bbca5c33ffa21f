-- SQLite's 0004 adds the index behind the delete of expired auth tickets; PostgreSQL has had it
-- since 0001 (auth_tickets_by_expiry), so this step changes nothing.
SELECT 1;
