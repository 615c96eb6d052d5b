//! Suppression: the one stage that decides what is not reported (inline
//! markers and config allowlists are applied per blob in `scan`; a baseline
//! is applied to a whole `Report` by every scanning command).

pub mod baseline;
pub mod changes;
pub mod inline;
