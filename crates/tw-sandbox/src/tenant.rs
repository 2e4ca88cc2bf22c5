//! The synthetic tenant: employees generated from a seed, their JSON
//! pre-rendered once into one arena, in pieces that pages are assembled
//! from according to `include`.

use serde_json::{Map, Value};
use tw_model::{Skill, SkillCluster, SkillSource, ValidationState};

use crate::rng::Rng;
use crate::vocabulary::{CLUSTERS, GROUPS, SOURCES};

/// Pieces per cluster: base, current, related, rejected, sources.
const PIECES: usize = 5;

/// Which optional lists a skill-clusters page carries, as a bit set over
/// `[current, related, rejected, sources]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct IncludeSet(u8);

impl IncludeSet {
    /// The bit of an `include` value; `None` for a value the API does not know.
    pub(crate) fn bit(include: &str) -> Option<u8> {
        Some(match include {
            "current_skills" => 1,
            "related_skills" => 2,
            "rejected_skills" => 4,
            "sources" => 8,
            _ => return None,
        })
    }

    pub(crate) fn from_bits(bits: u8) -> IncludeSet {
        IncludeSet(bits)
    }

    fn has(self, piece: usize) -> bool {
        // piece 1..=4 maps to bits 0..=3
        self.0 & (1 << (piece - 1)) != 0
    }
}

/// One skill an employee has (or rejected), as the skill-profiles
/// collection needs it: an index into the vocabulary and its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeldSkill {
    pub template: u8,
    pub skill: u8,
    /// 0 suggested, 1 validated, 2 rejected.
    pub state: u8,
    /// Bit i set: `SOURCES[i]`.
    pub sources: u16,
}

/// The synthetic tenant's employees: who they are, whether they are
/// active, when they were last updated. Same seed and size, same data, and
/// every dataset of the sandbox is rendered from it.
#[derive(Debug)]
pub struct Tenant {
    seed: u64,
    arena: Vec<u8>,
    /// Arena offset of each employee's first piece; one extra at the end.
    starts: Vec<u64>,
    /// Per employee: index of its first piece end in `ends`; one extra.
    first_piece: Vec<u32>,
    /// End of each piece, relative to the employee's start.
    ends: Vec<u32>,
    active: Vec<bool>,
    /// Per employee: `last_updated` in days since 1970 (atomic, so a test
    /// can mark employees updated while the sandbox serves).
    updated: Vec<std::sync::atomic::AtomicU32>,
    /// Per employee: its skills in `held`; one extra.
    first_held: Vec<u32>,
    held: Vec<HeldSkill>,
}

/// The first day `last_updated` can fall on: 2021-01-01, in days since 1970.
const FIRST_DAY: u32 = 18_628;
/// How many days `last_updated` spans (to 2026-10-31).
const DAY_SPAN: u32 = 2_130;

impl Tenant {
    /// Generates `employees` employees from `seed`.
    pub fn generate(employees: u32, seed: u64) -> Tenant {
        let n = employees as usize;
        let mut tenant = Tenant {
            seed,
            arena: Vec::with_capacity(n * 1200),
            starts: Vec::with_capacity(n + 1),
            first_piece: Vec::with_capacity(n + 1),
            ends: Vec::with_capacity(n * 12),
            active: Vec::with_capacity(n),
            updated: Vec::with_capacity(n),
            first_held: Vec::with_capacity(n + 1),
            held: Vec::with_capacity(n * 6),
        };
        for index in 0..employees {
            tenant.push_employee(index);
        }
        tenant.starts.push(tenant.arena.len() as u64);
        tenant.first_piece.push(tenant.ends.len() as u32);
        tenant.first_held.push(tenant.held.len() as u32);
        tenant
    }

    /// How many jobs the tenant has: one per five employees, at least ten.
    pub fn jobs(&self) -> usize {
        (self.len() / 5).max(10)
    }

    /// Job `index`'s external id.
    pub fn job_id(&self, index: usize) -> String {
        format!("job_{index:04}")
    }

    /// Job `index`'s job family id.
    pub fn job_family(&self, index: usize) -> &'static str {
        crate::vocabulary::JOB_FAMILIES[index % crate::vocabulary::JOB_FAMILIES.len()]
    }

    /// Job `index`'s `last_updated`, in days since 1970-01-01.
    pub fn job_updated_day(&self, index: usize) -> u32 {
        let mut rng = Rng::new(self.seed ^ 0x10B5_0001, index as u64);
        FIRST_DAY + rng.below(u64::from(DAY_SPAN)) as u32
    }

    /// Employee `index`'s skills: the current skills of its clusters, then
    /// the rejected ones, each once.
    pub(crate) fn held(&self, index: usize) -> &[HeldSkill] {
        &self.held[self.first_held[index] as usize..self.first_held[index + 1] as usize]
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many employees there are.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether there are no employees.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// Bytes of pre-rendered skill-clusters JSON held.
    pub fn rendered_bytes(&self) -> usize {
        self.arena.len()
    }

    /// Whether employee `index` is active.
    pub fn is_active(&self, index: usize) -> bool {
        self.active[index]
    }

    /// Employee `index`'s `last_updated`, in days since 1970-01-01.
    pub fn updated_day(&self, index: usize) -> u32 {
        self.updated[index].load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets employee `index`'s `last_updated` to `day` (days since
    /// 1970-01-01), as if their profile changed then.
    pub fn mark_updated(&self, index: usize, day: u32) {
        self.updated[index].store(day, std::sync::atomic::Ordering::Relaxed);
    }

    /// Employee `index`'s external id.
    pub fn external_id(&self, index: usize) -> &str {
        let head = self.piece(index, 0);
        let text = std::str::from_utf8(head).expect("rendered JSON is UTF-8");
        let rest = &text["{\"external_id\":\"".len()..];
        &rest[..rest.find('"').expect("a closing quote")]
    }

    fn piece(&self, index: usize, piece: usize) -> &[u8] {
        let base = self.starts[index] as usize;
        let first = self.first_piece[index] as usize;
        let start = if piece == 0 {
            0
        } else {
            self.ends[first + piece - 1] as usize
        };
        let end = self.ends[first + piece] as usize;
        &self.arena[base + start..base + end]
    }

    fn pieces(&self, index: usize) -> usize {
        (self.first_piece[index + 1] - self.first_piece[index]) as usize
    }

    /// Appends employee `index`'s skill-clusters record, with the lists in
    /// `include`.
    pub(crate) fn render(&self, index: usize, include: IncludeSet, out: &mut Vec<u8>) {
        let pieces = self.pieces(index);
        let clusters = (pieces - 2) / PIECES;
        out.extend_from_slice(self.piece(index, 0));
        for cluster in 0..clusters {
            let first = 1 + cluster * PIECES;
            out.extend_from_slice(self.piece(index, first));
            for list in 1..PIECES {
                if include.has(list) {
                    out.extend_from_slice(self.piece(index, first + list));
                }
            }
        }
        out.extend_from_slice(self.piece(index, pieces - 1));
    }

    fn end_piece(&mut self) {
        let start = *self.starts.last().expect("an employee started");
        self.ends.push((self.arena.len() as u64 - start) as u32);
    }

    fn push_employee(&mut self, index: u32) {
        let mut rng = Rng::new(self.seed, u64::from(index));
        self.first_held.push(self.held.len() as u32);
        let mut rejected_skills = Vec::new();
        self.starts.push(self.arena.len() as u64);
        self.first_piece.push(self.ends.len() as u32);
        self.active.push(rng.chance(85));
        self.updated.push(std::sync::atomic::AtomicU32::new(
            FIRST_DAY + rng.below(u64::from(DAY_SPAN)) as u32,
        ));

        let external_id = match rng.below(3) {
            0 => format!("emp_{index:07}"),
            1 => format!("E-{}-{index}", rng.below(90) + 10),
            _ => rng.uuid(),
        };
        self.arena.extend_from_slice(b"{\"external_id\":");
        write_json(&mut self.arena, &external_id);
        self.arena.extend_from_slice(b",\"skill_clusters\":[");
        self.end_piece();

        let count = match rng.below(20) {
            0..=1 => 0,
            2..=6 => 1,
            7..=12 => 2,
            13..=16 => 3,
            _ => 4,
        };
        let mut templates: Vec<usize> = (0..CLUSTERS.len()).collect();
        shuffle(&mut rng, &mut templates);
        for (k, &template) in templates.iter().take(count).enumerate() {
            let (base, lists, held) = cluster(&mut rng, template);
            for skill in held {
                let known = self.held[*self.first_held.last().unwrap() as usize..]
                    .iter()
                    .chain(&rejected_skills)
                    .any(|h: &HeldSkill| (h.template, h.skill) == (skill.template, skill.skill));
                if known {
                    continue;
                }
                if skill.state == 2 {
                    rejected_skills.push(skill);
                } else {
                    self.held.push(skill);
                }
            }
            if k > 0 {
                self.arena.extend_from_slice(b"},");
            }
            let mut text = serde_json::to_vec(&base).expect("serializable");
            text.pop(); // the closing brace comes after the lists
            self.arena.extend_from_slice(&text);
            self.end_piece();
            for (key, value) in lists {
                self.arena.extend_from_slice(b",");
                write_json(&mut self.arena, key);
                self.arena.extend_from_slice(b":");
                self.arena.extend_from_slice(&value);
                self.end_piece();
            }
        }
        if count > 0 {
            self.arena.extend_from_slice(b"}");
        }
        self.arena.extend_from_slice(b"]");
        if rng.chance(5) {
            self.arena.extend_from_slice(b",\"employee_group\":");
            write_json(
                &mut self.arena,
                GROUPS[rng.below(GROUPS.len() as u64) as usize],
            );
        }
        self.arena.extend_from_slice(b"}");
        self.end_piece();
        self.held.append(&mut rejected_skills);
    }
}

fn write_json(out: &mut Vec<u8>, value: &str) {
    serde_json::to_writer(out, value).expect("writing to a Vec");
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn sources(rng: &mut Rng, max: u64) -> Vec<SkillSource> {
    let mut picked: Vec<SkillSource> = Vec::new();
    for _ in 0..=rng.below(max) {
        // The undocumented `hackathon` comes up rarely.
        let pick = if rng.chance(3) {
            SOURCES.len() - 1
        } else {
            rng.below(SOURCES.len() as u64 - 1) as usize
        };
        let source = SkillSource::from(SOURCES[pick]);
        if !picked.contains(&source) {
            picked.push(source);
        }
    }
    picked
}

fn source_bits(sources: &[SkillSource]) -> u16 {
    sources
        .iter()
        .filter_map(|s| SOURCES.iter().position(|known| *known == s.as_str()))
        .fold(0, |bits, i| bits | 1 << i)
}

fn skill_and_sources(rng: &mut Rng, (id, name): (&str, &str), rejected: bool) -> (Skill, u16) {
    let validation_state = if rejected {
        ValidationState::Rejected
    } else if rng.chance(40) {
        ValidationState::Validated
    } else {
        ValidationState::Suggested
    };
    let mut extra = Map::new();
    if rng.chance(10) {
        extra.insert(
            "confidence".into(),
            Value::from(rng.below(100) as f64 / 100.0),
        );
    }
    let sources = sources(rng, 2);
    let bits = source_bits(&sources);
    let skill = Skill {
        name: name.to_owned(),
        skill_id: Some(id.to_owned()),
        validation_state: Some(validation_state),
        skill_sources: Some(sources),
        extra,
    };
    (skill, bits)
}

type Lists = [(&'static str, Vec<u8>); 4];

/// One cluster: its base object (no lists), its four list pieces, and the
/// skills the employee holds or rejected in it.
fn cluster(rng: &mut Rng, index: usize) -> (SkillCluster, Lists, Vec<HeldSkill>) {
    let template = &CLUSTERS[index];
    let validation_state = match rng.below(20) {
        0..=11 => Some(ValidationState::Validated),
        12..=16 => Some(ValidationState::Suggested),
        17..=18 => None,
        _ => Some(ValidationState::Other("pending_review".into())),
    };
    let mut extra = Map::new();
    if rng.chance(10) {
        extra.insert(
            "cluster_weight".into(),
            Value::from(rng.below(1000) as f64 / 1000.0),
        );
    }
    let base = SkillCluster {
        skill_cluster_id: Some(template.id.to_owned()),
        skill_cluster_name: Some(template.name.to_owned()),
        domain_name: Some(template.domain.to_owned()),
        proficiency_level: Some(rng.below(5) as i64 + 1),
        validation_state,
        extra,
        ..SkillCluster::default()
    };

    let mut pool: Vec<usize> = (0..template.skills.len()).collect();
    shuffle(rng, &mut pool);
    let current = 1 + rng.below(3) as usize;
    let related = rng.below(3) as usize;
    let rejected = rng.below(2) as usize;
    let mut held = Vec::new();
    let mut take = |n: usize, rejected: bool, hold: bool, rng: &mut Rng| -> Vec<Skill> {
        let n = n.min(pool.len());
        pool.drain(..n)
            .map(|i| {
                let (skill, sources) = skill_and_sources(rng, template.skills[i], rejected);
                if hold {
                    held.push(HeldSkill {
                        template: index as u8,
                        skill: i as u8,
                        state: match &skill.validation_state {
                            Some(ValidationState::Rejected) => 2,
                            Some(ValidationState::Validated) => 1,
                            _ => 0,
                        },
                        sources,
                    });
                }
                skill
            })
            .collect()
    };
    let current = take(current, false, true, rng);
    let related = take(related, false, false, rng);
    let rejected = take(rejected, true, true, rng);
    let sources = sources(rng, 3);
    let json = |v: Result<Vec<u8>, serde_json::Error>| v.expect("serializable");
    (
        base,
        [
            ("current_skills", json(serde_json::to_vec(&current))),
            ("related_skills", json(serde_json::to_vec(&related))),
            ("rejected_skills", json(serde_json::to_vec(&rejected))),
            ("sources", json(serde_json::to_vec(&sources))),
        ],
        held,
    )
}
