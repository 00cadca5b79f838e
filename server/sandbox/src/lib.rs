//! Worker processes for untrusted input.
//!
//! The server decodes what came off a card or a phone with C and C++ libraries (HEIF,
//! H.264). None of that runs in the server: each decode goes to a worker, a fresh run of
//! the server's own program that initialises its libraries, locks itself down
//! ([`lockdown`]: resource limits, Landlock where the kernel has it, a seccomp filter from
//! [`policy`]) and only then reads a request. Requests and answers are length-capped frames
//! ([`frame`]) over the worker's standard input and output. The server ([`supervisor`])
//! kills a worker past its time, tells a forbidden call from a crash by how it died, checks
//! what it answers, and starts a new one when one fails. A worker that cannot be locked
//! down decodes nothing.

pub mod frame;
pub mod lockdown;
pub mod policy;
pub mod supervisor;
pub mod worker;

pub use lockdown::{Applied, Confinement};
pub use supervisor::{Failure, Pool, Settings, Worker};
