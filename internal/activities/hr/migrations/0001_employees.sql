-- The HR register (component "hr"): one row per employee, upserted by
-- employee id on every import, and the sports each practises. The salary,
-- birth date, home address and coordinates are personal data: they stay in
-- these tables.
CREATE TABLE hr_employees (
    employee_id     TEXT             NOT NULL PRIMARY KEY,
    last_name       TEXT             NOT NULL,
    first_name      TEXT             NOT NULL,
    birth_date      DATE             NOT NULL,
    business_unit   TEXT             NOT NULL,
    hire_date       DATE             NOT NULL,
    gross_salary    DOUBLE PRECISION NOT NULL, -- gross annual salary, EUR
    contract_type   TEXT             NOT NULL,
    paid_leave_days DOUBLE PRECISION NOT NULL,
    home_address    TEXT             NOT NULL,
    latitude        DOUBLE PRECISION,          -- NULL when the register has none
    longitude       DOUBLE PRECISION,
    commute_mode    TEXT             NOT NULL, -- walking_running, bike_scooter_other, public_transport, car
    imported_at     TIMESTAMPTZ      NOT NULL, -- first import
    updated_at      TIMESTAMPTZ      NOT NULL  -- last import
);
CREATE INDEX hr_employees_business_unit ON hr_employees (business_unit);

CREATE TABLE hr_employee_sports (
    employee_id TEXT    NOT NULL REFERENCES hr_employees (employee_id) ON DELETE CASCADE,
    position    INTEGER NOT NULL, -- order in the register
    sport       TEXT    NOT NULL,
    PRIMARY KEY (employee_id, sport)
);
