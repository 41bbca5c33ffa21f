-- Issuing an auth ticket first deletes the expired ones (issue_auth_ticket). Without an index on
-- `expires` that delete reads every outstanding ticket, once per ticket issued.
CREATE INDEX auth_tickets_by_expiry ON auth_tickets (expires);
