//! Helpers shared by the tests that replay sandbox pages (`allocations`,
//! `view_memory`, `raw_csv`).

use tw_export::model::{ExportRequest, SkillClusters};
use tw_export::{Checkpoint, Client, Raw};
use tw_transport::Response;
use tw_transport::testing::{RecordingTransport, ScriptedTransport};
use tw_transport::{BaseUrl, HttpTransport};

/// The skill-clusters request the tests replay: pages of 100, every
/// include.
pub(crate) fn request() -> ExportRequest<SkillClusters> {
    let mut request = ExportRequest::<SkillClusters>::new(100).unwrap();
    request.body.include = tw_export::model::skill_clusters::Include::ALL.to_vec();
    request
}

/// Every page of [`request`]'s export of a sandbox tenant of `employees`.
/// The sandbox is stopped (all its threads ended) and the client dropped
/// before this returns, so nothing else allocates afterwards.
pub(crate) fn recorded(employees: u32) -> Vec<Vec<u8>> {
    let sandbox = tw_sandbox::Sandbox::start(tw_sandbox::SandboxConfig {
        employees,
        ..Default::default()
    })
    .unwrap();
    let http = HttpTransport::new(BaseUrl::parse(&sandbox.base_url()).unwrap()).unwrap();
    let recording = std::sync::Arc::new(
        RecordingTransport::new(http).with_header("Authorization", "Bearer sandbox-token"),
    );
    let client = Client::with_transport(recording.clone());
    for page in client.pages::<SkillClusters, Raw>(request(), Checkpoint::start(), None) {
        page.unwrap();
    }
    drop(client);
    sandbox.stop();
    recording.bodies()
}

/// A client that answers its requests with `bodies`, in order, on the
/// calling thread (no read-ahead).
#[allow(dead_code)] // Not every test binary replays.
pub(crate) fn replaying(bodies: &[Vec<u8>]) -> Client {
    let replay = ScriptedTransport::new();
    for body in bodies {
        replay.push(Response {
            status: 200,
            headers: Vec::new(),
            body: body.clone(),
        });
    }
    Client::with_transport(replay)
}
