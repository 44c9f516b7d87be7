//! The storage conformance suite: every test runs on SQLite, and on PostgreSQL when
//! `COMPLY_TEST_DATABASE_URL` is set. Both backends must give the same answers.

mod as_of;
mod audit;
mod evidence;
mod migrations;
mod orgs;
mod resources;
mod support;
mod webhooks;
mod window;
