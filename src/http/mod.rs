//! HTTP plumbing shared by every resource: extractors, middleware and the fallback route.

pub mod client;
pub mod csv;
pub mod deadline;
pub mod etag;
pub mod extract;
pub mod fallback;
pub mod idempotency;
pub mod middleware;
pub mod pagination;
pub mod patch;
