//! The host's integration tests, in one binary. Tests that touch the database run twice, on
//! SQLite and on PostgreSQL (`HELPDESK_TEST_POSTGRES_URL`, default the local server's `test`
//! database); a PostgreSQL that cannot be reached fails them rather than skipping them.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

mod support;

mod accounts;
mod api_fuzz;
mod backup;
mod browser;
mod cli;
mod compiled;
mod console;
mod examples;
mod hardening;
mod hostile;
mod http;
mod inbound;
mod mail;
mod manage;
mod metrics;
mod migrations;
mod pages;
mod plugin_kit;
mod replicas;
mod requests;
mod storage;
mod swap;
mod timers;
mod webhooks;
