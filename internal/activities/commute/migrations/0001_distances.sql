-- The commute check (component "commute"): the home-to-office distance of
-- each employee of the HR register, computed by a distance provider and
-- cached under a hash of what it depends on (home address, coordinates,
-- commute mode; the office), so that a changed address is computed again.
-- A home that cannot be placed has no distance (NULL) and needs_review set,
-- with the reason: it is never paid on a guess.
CREATE TABLE commute_distances (
    employee_id   TEXT             NOT NULL, -- hr_employees.employee_id
    place_hash    TEXT             NOT NULL, -- hash of the home address, coordinates and commute mode
    office_hash   TEXT             NOT NULL, -- hash of the office address and coordinates
    meters        DOUBLE PRECISION,          -- NULL when unknown
    source        TEXT             NOT NULL, -- the provider that computed it ('' when unknown)
    needs_review  BOOLEAN          NOT NULL, -- HR must check this employee's declaration
    review_reason TEXT             NOT NULL,
    computed_at   TIMESTAMPTZ      NOT NULL,
    PRIMARY KEY (employee_id, place_hash)
);
