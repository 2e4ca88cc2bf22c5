//! `tw-export sandbox`: the fake API in the foreground.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use tw_sandbox::{Sandbox, SandboxConfig};

use crate::cli::args::SandboxArgs;

pub(crate) fn run(args: &SandboxArgs) -> anyhow::Result<()> {
    let config = SandboxConfig {
        employees: args.employees,
        seed: args.seed,
        port: args.port,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        faults: args.faults.clone(),
        new_fields: args.new_fields,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config).context("starting the sandbox")?;
    let base = sandbox.base_url();
    let config = sandbox.config();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "tw-export sandbox: {} synthetic employees (seed {})\n\
         \x20 base URL:  {base}\n\
         \x20 token URL: {}\n\
         \x20 client id {:?}, client secret {:?}, or bearer token {:?} (demo values, not secrets)\n\
         \n\
         Export from it in another terminal (any dataset: skill-clusters, skill-profiles):\n\
         \x20 TECHWOLF_TOKEN={} tw-export skill-clusters --base-url {base} -o skill-clusters.jsonl\n\
         or with client credentials:\n\
         \x20 TECHWOLF_CLIENT_ID={} TECHWOLF_CLIENT_SECRET={} tw-export skill-clusters --base-url {base} \
         --token-url {} --audience sandbox --tenant sandbox -o skill-clusters.jsonl\n\
         \n\
         Press Ctrl-C to stop.",
        config.employees,
        config.seed,
        sandbox.token_url(),
        config.client_id,
        config.client_secret,
        config.static_token.as_deref().unwrap_or_default(),
        config.static_token.as_deref().unwrap_or_default(),
        config.client_id,
        config.client_secret,
        sandbox.token_url(),
    )?;
    out.flush()?;
    drop(out);
    sandbox.wait();
    Ok(())
}
