"""Storage: the only package that speaks SQL. `base.Store` is the interface; `sqlite` and
`postgres` implement it with the same contract suite (tests/contract)."""
