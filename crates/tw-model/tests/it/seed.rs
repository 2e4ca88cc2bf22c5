//! The documented example request and response.

use tw_model::skill_clusters::Include;
use tw_model::{
    Filter, PageRequest, SkillClusters, SkillClustersPage, SkillClustersRequest, ValidationState,
    decode,
};

use crate::{fixture, round_trip};

#[test]
fn seed_response_parses_and_reserializes_unchanged() {
    let json = fixture("seed-skill-clusters-response.json");
    let (input, output) = round_trip::<SkillClustersPage>(&json);
    assert_eq!(input, output);

    let page: SkillClustersPage = decode(json.as_bytes()).unwrap();
    insta::assert_snapshot!(
        "seed_response_reserialized",
        serde_json::to_string_pretty(&page).unwrap()
    );
}

#[test]
fn seed_response_fields() {
    let page: SkillClustersPage =
        decode(fixture("seed-skill-clusters-response.json").as_bytes()).unwrap();
    assert!(page.has_next);
    assert_eq!(
        page.next_starting_after.as_deref(),
        Some("61a6e076-d780-11ec-9d64-0242ac120002")
    );
    assert_eq!(page.records.len(), 2);

    let first = &page.records[0];
    assert_eq!(first.external_id, "5cbdbdbe-5f44-4423-8157-520f8a2f429a");
    let devops = &first.clusters()[0];
    assert_eq!(devops.skill_cluster_name.as_deref(), Some("DevOps"));
    assert_eq!(devops.proficiency_level, Some(3));
    assert_eq!(devops.validation_state, Some(ValidationState::Validated));
    let names: Vec<_> = devops
        .skills()
        .map(|(list, skill)| format!("{list}:{}", skill.name))
        .collect();
    assert_eq!(
        names,
        [
            "current:Git",
            "current:Jenkins",
            "current:Kubernetes",
            "related:Helm"
        ]
    );
    assert!(devops.rejected_skills.is_none(), "absent list stays None");
    assert!(devops.rejected().is_empty(), "but reads as empty");

    // The second record's cluster has no validation_state and empty lists.
    let finance = &page.records[1].clusters()[0];
    assert_eq!(finance.validation_state, None);
    assert_eq!(finance.related_skills.as_deref(), Some(&[][..]));
    assert_eq!(finance.current()[0].skill_sources.as_deref(), Some(&[][..]));
    assert!(finance.extra.is_empty());
}

#[test]
fn seed_request_parses_validates_and_reserializes_unchanged() {
    let json = fixture("seed-skill-clusters-request.json");
    let (input, output) = round_trip::<PageRequest<SkillClusters>>(&json);
    assert_eq!(input, output);

    let parsed: PageRequest<SkillClusters> = serde_json::from_str(&json).unwrap();
    let built = SkillClustersRequest::new(10)
        .unwrap()
        .with_filter(Filter::is_active(true))
        .with_include([
            Include::Sources,
            Include::CurrentSkills,
            Include::RelatedSkills,
            Include::RejectedSkills,
        ]);
    assert_eq!(parsed.request, built);
    assert_eq!(
        parsed.starting_after.as_deref(),
        Some("4cbdbabe-5644-4423-8157-520f8a2f429a")
    );
    insta::assert_debug_snapshot!("seed_request", parsed);
}
