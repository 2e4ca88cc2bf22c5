//! Export skills data from the TechWolf Skill Engine API.
//!
//! # Why this crate exists
//!
//! This is the layer people use: [`Client`] composes the model
//! (`tw-model`), the transport (`tw-transport`: HTTP, OAuth2, retries) and
//! the pagination loop (`tw-paginate`) into typed, blocking iterators, so a
//! script that reads every employee's skill clusters is a `for` loop. The
//! `tw-export` command built on it writes JSONL, JSON or CSV files that are
//! never half-written and can be resumed; see the README.
//!
//! # Example
//!
//! Count employees per skill cluster, here against the built-in sandbox:
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use tw_export::Client;
//! use tw_model::{Filter, Include, SkillClustersRequest};
//! use tw_transport::Secret;
//!
//! let sandbox = tw_sandbox::Sandbox::start(Default::default())?;
//! let client = Client::builder()
//!     .base_url(sandbox.base_url())          // or .tenant("acme", "eu")
//!     .bearer_token(Secret::new("sandbox-token"))
//!     .build()?;
//!
//! let request = SkillClustersRequest::new(100)?
//!     .with_filter(Filter::is_active(true))
//!     .with_include([Include::CurrentSkills]);
//! let mut per_cluster: BTreeMap<String, usize> = BTreeMap::new();
//! for employee in client.skill_clusters(request) {
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
mod error;
pub mod output;

pub use crate::client::{
    Client, ClientBuilder, ExportPages, HasExternalId, RawRecord, RawSource, SKILL_CLUSTERS_PATH,
    SkillClusterPages, SkillClusterRawPages, SkillClusters, Source,
};
pub use crate::error::Error;
pub use tw_paginate::Checkpoint;
