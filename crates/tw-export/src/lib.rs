//! Export skills data from the TechWolf Skill Engine API.
//!
//! # Why this crate exists
//!
//! This is the layer people use: [`Client`] composes the model
//! (`tw-model`), the transport (`tw-transport`: HTTP, OAuth2, retries) and
//! the pagination loop (`tw-paginate`) into typed, blocking iterators, so a
//! script that reads every employee's skill clusters is a `for` loop. One
//! generic path serves every dataset: [`Client::export`] takes an
//! [`ExportRequest`] of any [`Dataset`] declared in tw-model. The
//! `tw-export` command (crate `tw-export-cli`) is built on it.
//!
//! A script depends on this crate alone: the model is re-exported as
//! [`model`], and the names a script needs are re-exported at the root.
//!
//! # Example
//!
//! Count employees per skill cluster, here against the built-in sandbox:
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use tw_export::model::skill_clusters::Include;
//! use tw_export::{Client, ExportRequest, Filter, Secret, SkillClusters};
//!
//! let sandbox = tw_sandbox::Sandbox::start(Default::default())?;
//! let client = Client::builder()
//!     .base_url(sandbox.base_url())          // or .tenant("acme", "eu")
//!     .bearer_token(Secret::new("sandbox-token"))
//!     .build()?;
//!
//! let request = ExportRequest::<SkillClusters>::new(100)?
//!     .with_filter(Filter::is_active(true))
//!     .with_include([Include::CurrentSkills]);
//! let mut per_cluster: BTreeMap<String, usize> = BTreeMap::new();
//! for employee in client.export(request) {
//!     for cluster in employee?.clusters() {
//!         let name = cluster.skill_cluster_name.clone().unwrap_or_default();
//!         *per_cluster.entry(name).or_default() += 1;
//!     }
//! }
//! assert!(per_cluster.contains_key("DevOps"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod client;
pub mod env;
mod error;
pub mod output;
mod prefetch;

pub use crate::client::{
    Client, ClientBuilder, NoJson, Pages, Raw, RawCounted, RawRecord, RecordJson, Records, Repr,
    Rows, RowsCounted, RowsRecord, SpentPage, Typed, Viewed, ViewedRecord, WithJson,
};
pub use crate::error::Error;
pub use tw_model as model;
pub use tw_model::{Dataset, Date, ExportRequest, Filter, SkillClusters, SkillClustersRequest};
pub use tw_paginate::{Checkpoint, Cursor};
pub use tw_transport::{RetryEvent, RetryPolicy, Secret};
