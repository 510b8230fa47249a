//! Property tests of the waits against dcs-sim in-process, in virtual time, through sources
//! that wrap the client to record what each request proved: the driver under random faults
//! (`faults`), and "never twice" for swaps (`swap`), backups and restores (`records`). They
//! live in the crate because the sources they wrap are not public API.

mod faults;
mod records;
mod starts;
mod swap;
