//! Operations over HTTP: the host's one server (admin API, dashboard,
//! metrics, health checks) and its client; and the report as an HTML page. It reads the session's
//! telemetry and steers it through the control plane; nothing here runs on
//! the data path.

pub mod client;
pub mod dashboard;
pub mod metrics;
pub mod report_html;
pub mod server;

pub use client::{request, token_path};
pub use server::{Server, serve};
