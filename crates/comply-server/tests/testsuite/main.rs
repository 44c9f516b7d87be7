//! comply-server's tests: the HTTP API through the real router and a real store
//! (SQLite always, PostgreSQL when `COMPLY_TEST_DATABASE_URL` is set).

mod api;
mod connections;
mod dashboard;
mod dashboard_pages;
mod deadlines;
mod hardening;
mod ingestion;
mod report;
mod security;
mod support;
mod two_servers;
mod webhooks;
