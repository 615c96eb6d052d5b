//! Suppression: the one stage that decides what is not reported (inline
//! markers; config allowlists and baselines are applied in `scan`).

pub mod inline;
