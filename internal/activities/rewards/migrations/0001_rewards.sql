-- The rewards processor (component "activities-rewards").
--
-- activities_current is the silver table: the current row of every activity
-- of sport_activities, as the change events tell it (upserted on c/u/r,
-- deleted on d, emptied on t), with its calendar year and month in the
-- company's time zone.
CREATE TABLE activities_current (
    id          BIGINT           NOT NULL PRIMARY KEY,
    employee_id TEXT             NOT NULL,
    start_time  TIMESTAMPTZ      NOT NULL,
    local_year  INTEGER          NOT NULL, -- year of start_time in the policy's time zone
    local_month INTEGER          NOT NULL, -- 1..12, same time zone
    sport_type  TEXT             NOT NULL,
    distance_m  DOUBLE PRECISION NOT NULL,
    elapsed_s   INTEGER          NOT NULL,
    source      TEXT             NOT NULL,
    updated_at  TIMESTAMPTZ      NOT NULL
);
CREATE INDEX activities_current_employee_year ON activities_current (employee_id, local_year);
CREATE INDEX activities_current_year ON activities_current (local_year, local_month);

-- activities_gold: per employee and year with at least one activity, the
-- figures of the rewards policy. bonus_eur derives from the salary: this
-- table stays in the store (BI tools read it), never in topics or pages.
CREATE TABLE activities_gold (
    employee_id      TEXT             NOT NULL,
    year             INTEGER          NOT NULL,
    business_unit    TEXT             NOT NULL, -- '' when the employee is not in the HR register
    activities       INTEGER          NOT NULL,
    distance_km      DOUBLE PRECISION NOT NULL,
    sports           TEXT             NOT NULL, -- sports practised that year, sorted, comma-separated
    commute_mode     TEXT             NOT NULL, -- hr_employees.commute_mode, '' when unknown
    commute_km       DOUBLE PRECISION,          -- measured home-to-office distance; NULL when unknown
    bonus_eligible   BOOLEAN          NOT NULL,
    bonus_eur        DOUBLE PRECISION NOT NULL,
    declaration_flag TEXT             NOT NULL, -- why HR must check the declaration; '' when fine
    wellness_days    INTEGER          NOT NULL,
    updated_at       TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (employee_id, year)
);
CREATE INDEX activities_gold_year ON activities_gold (year, business_unit);
