//! Properties: round trips over generated documents, and the limit range.

use proptest::prelude::*;
use serde_json::{Map, Value};
use tw_model::{
    Dataset, Describe, EmployeeSkillClusters, Shape, SkillClusters, SkillClustersPage,
    SkillClustersRequest, Table, decode,
};

/// Any JSON value, a few levels deep.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields: keys no model type uses.
fn extras() -> impl Strategy<Value = Vec<(String, Option<Value>)>> {
    prop::collection::vec(("x_[a-z]{1,8}", any_json().prop_map(Some)), 0..3)
}

/// A field that may be absent (`None`), an explicit `null`, or a value.
fn optional(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![Just(None), Just(Some(Value::Null)), value.prop_map(Some)]
}

fn string() -> impl Strategy<Value = Value> {
    "[^\u{0}]{0,16}".prop_map(Value::from)
}

fn object(fields: Vec<(String, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    Value::Object(map)
}

/// Documents of any model shape, derived from the declaration
/// (`Describe`): required fields always present, optional ones absent,
/// `null` or a value, open enums a known or an unknown value, and unknown
/// keys at every object.
pub(crate) fn doc_for(shape: &Shape) -> BoxedStrategy<Value> {
    doc_in(shape, &mut Vec::new())
}

/// How many times a recursive type is expanded inside itself.
const RECURSION: usize = 2;

/// `doc_for` inside the objects of `stack` (for recursive types: a
/// [`Shape::Recursive`] expands the enclosing object again, up to
/// [`RECURSION`] times; below that, lists of it are empty).
fn doc_in(shape: &Shape, stack: &mut Vec<Shape>) -> BoxedStrategy<Value> {
    let expansions = |name: &str, stack: &[Shape]| {
        stack
            .iter()
            .filter(|s| matches!(s, Shape::Object { name: n, .. } if *n == name))
            .count()
    };
    match shape {
        Shape::Recursive(name) => {
            let object = stack
                .iter()
                .find(|s| matches!(s, Shape::Object { name: n, .. } if n == name))
                .cloned()
                .expect("a recursive shape inside its object");
            doc_in(&object, stack)
        }
        Shape::Array(item) if matches!(&**item, Shape::Recursive(name) if expansions(name, stack) > RECURSION) => {
            Just(Value::Array(Vec::new())).boxed()
        }
        Shape::String => string().boxed(),
        Shape::Integer => any::<i64>().prop_map(Value::from).boxed(),
        Shape::Number => prop_oneof![
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
        ]
        .boxed(),
        Shape::Bool => any::<bool>().prop_map(Value::from).boxed(),
        Shape::Enum(known) => prop_oneof![
            3 => prop::sample::select(known.to_vec()).prop_map(Value::from),
            1 => "[a-z_]{1,12}".prop_map(Value::from),
        ]
        .boxed(),
        Shape::Array(item) => prop::collection::vec(doc_in(item, stack), 0..3)
            .prop_map(Value::from)
            .boxed(),
        Shape::Object { fields, .. } => {
            stack.push(shape.clone());
            let known: Vec<BoxedStrategy<(String, Option<Value>)>> = fields
                .iter()
                .map(|field| {
                    let name = field.name.to_owned();
                    let value = doc_in(&field.shape, stack);
                    if field.required {
                        value.prop_map(move |v| (name.clone(), Some(v))).boxed()
                    } else {
                        optional(value).prop_map(move |v| (name.clone(), v)).boxed()
                    }
                })
                .collect();
            stack.pop();
            (known, extras())
                .prop_map(|(known, mut extra)| {
                    extra.extend(known);
                    object(extra)
                })
                .boxed()
        }
    }
}

/// Records of dataset `D`.
pub(crate) fn record_doc_for<D: Dataset>() -> BoxedStrategy<Value> {
    doc_for(&D::Record::shape())
}

/// Pages of dataset `D`: the envelope with records of its shape (for a
/// document export, the document: its records key and unknown keys).
pub(crate) fn page_doc_for<D: Dataset>() -> BoxedStrategy<Value> {
    if let tw_model::Paging::Document { records } = D::PAGING {
        return (prop::collection::vec(record_doc_for::<D>(), 0..4), extras())
            .prop_map(move |(list, mut extra)| {
                extra.push((records.to_owned(), Some(Value::from(list))));
                object(extra)
            })
            .boxed();
    }
    (
        any::<bool>(),
        prop::collection::vec(record_doc_for::<D>(), 0..4),
        optional(string()),
        extras(),
    )
        .prop_map(|(has_next, records, next, mut extra)| {
            extra.extend([
                ("has_next".to_owned(), Some(Value::from(has_next))),
                ("records".to_owned(), Some(Value::from(records))),
                ("next_starting_after".to_owned(), next),
            ]);
            object(extra)
        })
        .boxed()
}

pub(crate) fn record_doc() -> BoxedStrategy<Value> {
    record_doc_for::<SkillClusters>()
}

pub(crate) fn page_doc() -> BoxedStrategy<Value> {
    page_doc_for::<SkillClusters>()
}

proptest! {
    /// parse -> serialize keeps every key and value and adds none, at every
    /// level, for absent, null and present optional fields and unknown ones.
    #[test]
    fn parse_then_serialize_is_the_identity_on_documents(doc in page_doc()) {
        let text = serde_json::to_string(&doc).unwrap();
        let page: SkillClustersPage = decode(text.as_bytes()).unwrap();
        prop_assert_eq!(serde_json::to_value(&page).unwrap(), doc);
    }

    /// Any valid record: value -> JSON -> value is equal.
    #[test]
    fn typed_records_round_trip(doc in record_doc()) {
        let record: EmployeeSkillClusters = serde_json::from_value(doc).unwrap();
        let text = serde_json::to_string(&record).unwrap();
        let again: EmployeeSkillClusters = decode(text.as_bytes()).unwrap();
        prop_assert_eq!(again, record);
    }

    #[test]
    fn in_range_limits_are_accepted(n in 1i64..=100) {
        prop_assert_eq!(SkillClustersRequest::new(n).unwrap().limit().get() as i64, n);
    }

    #[test]
    fn out_of_range_limits_are_rejected(n in prop_oneof![i64::MIN..=0, 101i64..=i64::MAX]) {
        let err = SkillClustersRequest::new(n).unwrap_err();
        prop_assert_eq!(err.to_string(), format!("limit must be between 1 and 100 (inclusive), got {n}"));
    }
}

/// `cells::extra` as it was first written: a map keyed by
/// `<level>.<field>` of cloned values, printed.
fn extra_by_map(levels: &[(&str, &dyn tw_model::Unknown)]) -> String {
    let mut found = Map::new();
    for (level, object) in levels {
        object.for_each_unknown(&mut |key, value| {
            found.insert(format!("{level}.{key}"), value.clone());
        });
    }
    if found.is_empty() {
        String::new()
    } else {
        Value::Object(found).to_string()
    }
}

/// The `extra` cells (a table's last column) of `rows`.
fn extra_cells<T: Table>(rows: &[(Vec<String>, usize)]) -> Vec<&str> {
    let extra = T::COLUMNS.len() - 1;
    rows.iter().map(|(row, _)| row[extra].as_str()).collect()
}

/// The `extra` cells, by [`extra_by_map`], of a table with a row per
/// child of `parent` (a `level` below it), or one row of the parent alone
/// when it has none.
fn expected_below<S: tw_model::Unknown>(
    parent: (&str, &dyn tw_model::Unknown),
    level: &str,
    children: &[S],
) -> Vec<String> {
    if children.is_empty() {
        return vec![extra_by_map(&[parent])];
    }
    children
        .iter()
        .map(|child| extra_by_map(&[parent, (level, child)]))
        .collect()
}

/// The `extra` cells of a task table (task profiles, job task profiles):
/// a row per task with the owner's, the task's and its AI impact's
/// unknown fields (`task.ai_impact`), or the owner's alone without tasks.
fn expected_task_rows<'a, T: tw_model::Unknown + 'a>(
    owner: (&str, &dyn tw_model::Unknown),
    tasks: impl ExactSizeIterator<Item = (&'a T, Option<&'a dyn tw_model::Unknown>)>,
) -> Vec<String> {
    if tasks.len() == 0 {
        return vec![extra_by_map(&[owner])];
    }
    tasks
        .map(|(task, impact)| {
            let mut levels = vec![owner, ("task", task as &dyn tw_model::Unknown)];
            levels.extend(impact.map(|impact| ("task.ai_impact", impact)));
            extra_by_map(&levels)
        })
        .collect()
}

proptest! {
    /// Every skill-clusters row viewed from a record's text has, as its
    /// `extra` cell, the printed map of the unknown fields of the employee,
    /// cluster and skill it is made of, whichever of them have some. The
    /// record's typed rows view it too, so only an oracle that shares no
    /// code with the table (this one) sees a cell the table got wrong.
    #[test]
    fn each_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(doc in record_doc()) {
        let text = doc.to_string();
        let record: EmployeeSkillClusters = serde_json::from_str(&text).unwrap();
        let rows = tw_model::view_record::<EmployeeSkillClusters, _>(&text, |view, text| {
            crate::scan::viewed_rows::<EmployeeSkillClusters>(view, text)
        })
        .unwrap();
        let mut expected = Vec::new();
        if record.clusters().is_empty() {
            expected.push(extra_by_map(&[("employee", &record)]));
        }
        for cluster in record.clusters() {
            let before = expected.len();
            for (_, skill) in cluster.skills() {
                expected.push(extra_by_map(&[
                    ("employee", &record),
                    ("cluster", cluster),
                    ("skill", skill),
                ]));
            }
            if expected.len() == before {
                expected.push(extra_by_map(&[("employee", &record), ("cluster", cluster)]));
            }
        }
        prop_assert_eq!(extra_cells::<EmployeeSkillClusters>(&rows), expected);
    }

    /// The same for skill profiles: each skill's row has the map of the
    /// employee's and the skill's unknown fields.
    #[test]
    fn each_profile_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::SkillProfiles>(),
    ) {
        use tw_model::EmployeeSkillProfile;
        let text = doc.to_string();
        let record: EmployeeSkillProfile = serde_json::from_str(&text).unwrap();
        let rows = tw_model::view_record::<EmployeeSkillProfile, _>(&text, |view, text| {
            crate::scan::viewed_rows::<EmployeeSkillProfile>(view, text)
        })
        .unwrap();
        let skills = record.skills.as_deref().unwrap_or_default();
        prop_assert_eq!(
            extra_cells::<EmployeeSkillProfile>(&rows),
            expected_below(("employee", &record), "skill", skills)
        );
    }

    /// And for job skill profiles, written over typed records: each
    /// skill's row has the map of the job's and the skill's unknown fields.
    #[test]
    fn each_job_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::job_skill_profiles::JobSkillProfiles>(),
    ) {
        use tw_model::job_skill_profiles::JobSkillProfile;
        let record: JobSkillProfile = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        prop_assert_eq!(
            extra_cells::<JobSkillProfile>(&rows),
            expected_below(("job", &record), "skill", record.skill_list())
        );
    }
}

proptest! {
    /// Task profiles: each task's row has the map of the employee's, the
    /// task's and its AI impact's unknown fields.
    #[test]
    fn each_task_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::task_profiles::TaskProfiles>(),
    ) {
        use tw_model::task_profiles::EmployeeTaskProfile;
        let record: EmployeeTaskProfile = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        let tasks = record.task_list().iter().map(|task| {
            (task, task.ai_impact.as_ref().map(|i| i as &dyn tw_model::Unknown))
        });
        prop_assert_eq!(
            extra_cells::<EmployeeTaskProfile>(&rows),
            expected_task_rows(("employee", &record), tasks)
        );
    }

    /// Job task profiles: the same with the job for the employee.
    #[test]
    fn each_job_task_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::job_task_profiles::JobTaskProfiles>(),
    ) {
        use tw_model::job_task_profiles::JobTaskProfile;
        let record: JobTaskProfile = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        let tasks = record.task_list().iter().map(|task| {
            (task, task.ai_impact.as_ref().map(|i| i as &dyn tw_model::Unknown))
        });
        prop_assert_eq!(
            extra_cells::<JobTaskProfile>(&rows),
            expected_task_rows(("job", &record), tasks)
        );
    }

    /// Job-market alignment: each peer group's row has the map of the
    /// job's and its score's unknown fields.
    #[test]
    fn each_alignment_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::job_market_alignment::JobMarketAlignment>(),
    ) {
        use tw_model::job_market_alignment::JobMarketAlignmentRecord;
        let record: JobMarketAlignmentRecord = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        let scores = record.alignment_scores.as_deref().unwrap_or_default();
        prop_assert_eq!(
            extra_cells::<JobMarketAlignmentRecord>(&rows),
            expected_below(("job", &record), "alignment", scores)
        );
    }

    /// Job-market skill profiles: each (peer group, skill) row has the map
    /// of the job's, the group's and the skill's unknown fields; a group
    /// without skills the job's and the group's.
    #[test]
    fn each_market_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::job_market_skill_profiles::JobMarketSkillProfiles>(),
    ) {
        use tw_model::job_market_skill_profiles::JobMarketSkillProfile;
        let record: JobMarketSkillProfile = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        let job = ("job", &record as &dyn tw_model::Unknown);
        let mut expected = Vec::new();
        if record.peer_group_list().is_empty() {
            expected.push(extra_by_map(&[job]));
        }
        for group in record.peer_group_list() {
            let skills = group.skills.as_deref().unwrap_or_default();
            if skills.is_empty() {
                expected.push(extra_by_map(&[job, ("peer_group", group)]));
            }
            for skill in skills {
                expected.push(extra_by_map(&[job, ("peer_group", group), ("skill", skill)]));
            }
        }
        prop_assert_eq!(extra_cells::<JobMarketSkillProfile>(&rows), expected);
    }

    /// AI goals: the goal's row has the map of the goal's unknown fields
    /// and those of each target skill and task (shown by id only), keyed
    /// by the item's place (`goal.target_skills[0].<field>`).
    #[test]
    fn each_goal_rows_extra_cell_is_the_map_of_its_objects_unknown_fields(
        doc in record_doc_for::<tw_model::ai_goals::AiGoals>(),
    ) {
        use tw_model::ai_goals::AiGoal;
        let record: AiGoal = serde_json::from_value(doc).unwrap();
        let rows = crate::scan::typed_rows(&record);
        let mut names = Vec::new();
        let mut items: Vec<&dyn tw_model::Unknown> = Vec::new();
        for (i, skill) in record.target_skills.iter().flatten().enumerate() {
            names.push(format!("goal.target_skills[{i}]"));
            items.push(skill);
        }
        for (i, task) in record.target_tasks.iter().flatten().enumerate() {
            names.push(format!("goal.target_tasks[{i}]"));
            items.push(task);
        }
        let mut levels = vec![("goal", &record as &dyn tw_model::Unknown)];
        levels.extend(names.iter().map(String::as_str).zip(items));
        prop_assert_eq!(extra_cells::<AiGoal>(&rows), vec![extra_by_map(&levels)]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The `extra` cell, written straight out, is the printed map: same
    /// keys in the same order (across levels too), same values, and of a
    /// key given twice (the same level twice) the last value.
    #[test]
    fn the_extra_cell_is_the_map_of_unknown_fields(
        first in prop::collection::btree_map("[a-z.\"\\\\é\n\u{1}]{0,12}", any_json(), 0..4),
        second in prop::collection::btree_map("[a-z.\"\\\\é\n\u{1}]{0,12}", any_json(), 0..4),
        levels in prop::collection::vec(("[a-c.]{0,3}", any::<bool>()), 0..4),
    ) {
        let record = |fields: &std::collections::BTreeMap<String, Value>| {
            let mut json = serde_json::json!({"external_id": "e1", "skill_clusters": []});
            for (key, value) in fields {
                // Known names would not be unknown fields.
                if key != "external_id" && key != "skill_clusters" {
                    json[key.as_str()] = value.clone();
                }
            }
            serde_json::from_value::<EmployeeSkillClusters>(json).unwrap()
        };
        let (first, second) = (record(&first), record(&second));
        let levels: Vec<(&str, &dyn tw_model::Unknown)> = levels
            .iter()
            .map(|(name, which)| {
                let object: &dyn tw_model::Unknown = if *which { &first } else { &second };
                (name.as_str(), object)
            })
            .collect();
        prop_assert_eq!(tw_model::cells::extra(&levels).into_owned(), extra_by_map(&levels));
        // A nested row's cell from its parents' cell: the same text, whether
        // the last level has unknown fields (built) or none (borrowed).
        if let Some(parents) = levels.len().checked_sub(1) {
            let above = tw_model::cells::extra(&levels[..parents]);
            prop_assert_eq!(
                tw_model::cells::extra_below(&above, &levels).into_owned(),
                extra_by_map(&levels)
            );
            // Parents without unknown fields, given as `{}`, read as
            // blank below a level that has some.
            if above.is_empty() && !extra_by_map(&levels).is_empty() {
                prop_assert_eq!(
                    tw_model::cells::extra_below("{}", &levels).into_owned(),
                    extra_by_map(&levels)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The `extra` cell prints numbers with their `Display`, which must be
    /// the JSON serde_json writes for them: every float (exponents,
    /// subnormals, -0.0 included) and integers past `i64`.
    #[test]
    fn a_numbers_display_is_its_json(
        number in prop_oneof![
            any::<f64>().prop_filter_map("finite", serde_json::Number::from_f64),
            any::<u64>().prop_map(serde_json::Number::from),
            any::<i64>().prop_map(serde_json::Number::from),
        ],
    ) {
        prop_assert_eq!(
            number.to_string(),
            serde_json::to_string(&Value::Number(number.clone())).unwrap()
        );
    }
}

proptest! {
    /// Number and boolean cells read as `Display` writes the values, the
    /// small whole numbers taken from static text included.
    #[test]
    fn shown_cells_are_the_values_display(
        whole in prop_oneof![-3i64..=103, any::<i64>()],
        unsigned in any::<u64>(),
        float in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        flag in any::<bool>(),
    ) {
        use tw_model::cells::shown;
        prop_assert_eq!(shown(Some(whole)).to_string(), whole.to_string());
        let numbers = [
            serde_json::Number::from(whole),
            serde_json::Number::from(unsigned),
            serde_json::Number::from_f64(float).unwrap(),
        ];
        for number in &numbers {
            prop_assert_eq!(shown(Some(number)).to_string(), number.to_string());
        }
        prop_assert_eq!(shown(Some(flag)).to_string(), flag.to_string());
        prop_assert_eq!(shown(None::<i64>).to_string(), "");
    }
}

#[test]
fn every_small_number_cell_is_its_text() {
    for n in -1i64..=101 {
        assert_eq!(tw_model::cells::shown(Some(n)).to_string(), n.to_string());
    }
}

/// What a record sends that its model does not know: each unknown field
/// (renamed so that its key is unique in the record) with its value as
/// compact JSON, and each open enum's value outside the known ones.
#[derive(Default, Debug)]
struct Unknowns {
    fields: Vec<(String, String)>,
    enum_values: Vec<String>,
}

/// Walks `doc` along `shape` (objects of `stack` enclose it), renames every
/// unknown key to `u<n>_<key>` (unique in the record) and collects what
/// [`Unknowns`] holds.
fn collect_unknowns(doc: &mut Value, shape: &Shape, stack: &mut Vec<Shape>, out: &mut Unknowns) {
    match (shape, doc) {
        (Shape::Recursive(name), doc) => {
            let object = stack
                .iter()
                .find(|s| matches!(s, Shape::Object { name: n, .. } if n == name))
                .cloned()
                .expect("a recursive shape inside its object");
            collect_unknowns(doc, &object, stack, out);
        }
        (Shape::Enum(known), Value::String(value)) if !known.contains(&value.as_str()) => {
            out.enum_values.push(value.clone());
        }
        (Shape::Array(item), Value::Array(items)) => {
            for doc in items {
                collect_unknowns(doc, item, stack, out);
            }
        }
        (Shape::Object { fields, .. }, Value::Object(map)) => {
            stack.push(shape.clone());
            let old = std::mem::take(map);
            for (key, mut value) in old {
                match fields.iter().find(|f| f.name == key) {
                    Some(field) => {
                        collect_unknowns(&mut value, &field.shape, stack, out);
                        map.insert(key, value);
                    }
                    None => {
                        let key = format!("u{}_{key}", out.fields.len());
                        out.fields.push((key.clone(), value.to_string()));
                        map.insert(key, value);
                    }
                }
            }
            stack.pop();
        }
        _ => {}
    }
}

/// Every dataset's CSV rows lose nothing the API sends that this release
/// does not know: each unknown field of any object of a record (nested ones
/// too) is in a cell of the record's rows, as `"<level>.<key>":<value>` in
/// an `extra` cell or as `"<key>":<value>` inside a column that holds
/// JSON; each open enum's unknown value is a cell, an item of a
/// `;`-joined cell, or a JSON string inside a cell. The rows are viewed from the record's text, which for every
/// dataset gives its typed rows too (`pages_viewed_give_the_rows_of_decoded_ones`).
pub(crate) fn rows_keep_every_unknown_field_and_value<D: Dataset>() {
    use proptest::test_runner::{Config, TestRunner};

    let shape = <D::Record as Describe>::shape();
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(&record_doc_for::<D>(), |mut doc| {
            let mut unknowns = Unknowns::default();
            collect_unknowns(&mut doc, &shape, &mut Vec::new(), &mut unknowns);
            let text = doc.to_string();
            let rows = tw_model::view_record::<D::Record, _>(&text, |view, text| {
                crate::scan::viewed_rows::<D::Record>(view, text)
            })
            .unwrap();
            let cells: Vec<&str> = rows
                .iter()
                .flat_map(|(row, _)| row.iter().map(String::as_str))
                .collect();
            for (key, value) in &unknowns.fields {
                let member = format!("{key}\":{value}");
                let found = cells.iter().any(|cell| {
                    cell.match_indices(&member)
                        .any(|(at, _)| at > 0 && matches!(cell.as_bytes()[at - 1], b'"' | b'.'))
                });
                prop_assert!(
                    found,
                    "the unknown field {}: {} is in no cell of {:?}\nrecord: {}",
                    key,
                    value,
                    rows,
                    text
                );
            }
            for value in &unknowns.enum_values {
                let quoted = format!("\"{value}\"");
                prop_assert!(
                    cells
                        .iter()
                        .any(|cell| cell.split(';').any(|v| v == value) || cell.contains(&quoted)),
                    "the unknown enum value {:?} is in no cell of {:?}\nrecord: {}",
                    value,
                    rows,
                    text
                );
            }
            Ok(())
        })
        .unwrap();
}
