-- The F1 penalties processor (f1-penalties) keeps the points penalties that
-- are not results, by their stable id: a replayed penalty replaces itself.
CREATE TABLE f1_penalties (
    id         TEXT             NOT NULL PRIMARY KEY,
    season     INTEGER          NOT NULL,
    kind       TEXT             NOT NULL, -- DRIVER or CONSTRUCTOR
    target     TEXT             NOT NULL, -- driver or constructor id
    points     DOUBLE PRECISION NOT NULL, -- negative for a deduction
    from_round INTEGER          NOT NULL,
    reason     TEXT             NOT NULL,
    updated_at TIMESTAMPTZ      NOT NULL
);
CREATE INDEX f1_penalties_season ON f1_penalties (season);
