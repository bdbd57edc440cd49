//! What an outside attack, fuzzing and fault tests found, each proved fixed: hostile input at
//! the boundary, uploads and their files, account lock-out and its neighbours, slow clients and
//! a database outage, and the memory of a server under upload and login floods.

mod accounts;
mod input;
mod memory;
mod outage;
mod proxies;
mod slow;
mod uploads;
