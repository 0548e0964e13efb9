//! The ferrokms server: command line, data directory, HTTP front door (body cap, SigV4,
//! `X-Amz-Target` routing, errors as AWS JSON), TLS and graceful shutdown. The service itself
//! lives in `ferrokms-core`; this crate only carries requests to it.

pub mod admin;
pub mod app;
pub mod audit_trail;
pub mod auth;
pub mod cli;
pub mod data_dir;
pub mod http;
pub mod idle;
pub mod listener;
pub mod log_writer;
pub mod metrics;
pub mod operation;
pub mod process;
pub mod server;
pub mod sts;

pub use server::{Running, ServerConfig};
