//! Comparing an analysis with the truth (filled in below).
