//! Counts employees per skill cluster: a blocking script over
//! `Client::skill_clusters`.
//!
//! Against a real tenant:
//!
//! ```sh
//! TECHWOLF_TENANT=acme TECHWOLF_REGION=eu TECHWOLF_CLIENT_ID=... TECHWOLF_CLIENT_SECRET=... \
//!     cargo run -p tw-export --example count_clusters
//! ```
//!
//! Without those variables it starts the built-in sandbox and counts there.

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use tw_export::Client;
use tw_model::{Filter, SkillClustersRequest};
use tw_transport::Secret;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut _sandbox = None;
    let client = match (
        env("TECHWOLF_TENANT"),
        env("TECHWOLF_REGION"),
        env("TECHWOLF_CLIENT_ID"),
        env("TECHWOLF_CLIENT_SECRET"),
    ) {
        (Some(tenant), Some(region), Some(id), Some(secret)) => Client::builder()
            .tenant(tenant, region)
            .client_credentials(id, Secret::new(secret))
            .build()?,
        _ => {
            let sandbox = tw_sandbox::Sandbox::start(Default::default())?;
            let client = Client::builder()
                .base_url(sandbox.base_url())
                .bearer_token(Secret::new("sandbox-token"))
                .build()?;
            println!("(no TECHWOLF_* variables: counting in the built-in sandbox)");
            _sandbox = Some(sandbox);
            client
        }
    };

    let request = SkillClustersRequest::new(100)?.with_filter(Filter::is_active(true));
    let mut employees = 0;
    let mut per_cluster: BTreeMap<String, u64> = BTreeMap::new();
    for employee in client.skill_clusters(request) {
        let employee = employee?;
        employees += 1;
        for cluster in employee.clusters() {
            let name = cluster.skill_cluster_name.as_deref().unwrap_or("(unnamed)");
            *per_cluster
                .entry(name.replace(['\n', '\t'], " "))
                .or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, u64)> = per_cluster.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("{employees} active employees");
    for (name, count) in ranked {
        println!("{count:>8}  {name}");
    }
    Ok(())
}
