//! `org-units`: `GET /organisational_units/export`, the whole
//! organisational tree in one response.
//!
//! The response is one document, `{"organisational_structure": [...]}`,
//! holding the root units; each unit holds its sub-units in `children`.
//! A record of this dataset is one root unit with its subtree, as sent.
//! [`OrgUnit::flatten`] walks a subtree as rows with their parent, depth
//! and path, which is what the CSV table holds.
//!
//! ```
//! use tw_model::decode_page;
//! use tw_model::org_units::OrgUnits;
//!
//! let page = decode_page::<OrgUnits>(br#"{"organisational_structure": [
//!     {"external_id": "ou_ops", "name": "Operations", "total_nr_of_employees": 40, "children": [
//!         {"external_id": "ou_log", "name": "Logistics", "total_nr_of_employees": 31, "children": []}
//!     ]}
//! ]}"#)?;
//! let rows: Vec<_> = page.records[0].flatten().collect();
//! assert_eq!(rows[1].unit.external_id, "ou_log");
//! assert_eq!(rows[1].parent.map(|p| p.external_id.as_str()), Some("ou_ops"));
//! assert_eq!(rows[1].depth, 1);
//! assert_eq!(rows[1].path(), "ou_ops/ou_log");
//! # Ok::<(), tw_model::DecodeError>(())
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dataset::{Cell, Dataset, EmitRow, Kind, Method, Paging, Table, cells};
use crate::error::RequestError;
use crate::request::{ExportRequest, NoBody, PageLimit};
use crate::wire::{open_enum, wire_struct};

/// The organisational-units export, declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrgUnits;

impl Dataset for OrgUnits {
    const NAME: &'static str = "org-units";
    const ABOUT: &'static str =
        "The organisational tree with employee counts (GET /organisational_units/export)";
    const METHOD: Method = Method::Get;
    const PATH: &'static str = "/organisational_units/export";
    const PAGING: Paging = Paging::Document {
        records: "organisational_structure",
    };
    /// Not used: the tree comes whole, without `limit`.
    const MAX_LIMIT: u32 = PageLimit::MAX;
    const KEY: &'static [&'static str] = &["external_id"];
    type Body = NoBody;
    type Query = Query;
    type Record = OrgUnit;
}

/// A request of the organisational-units export.
pub type OrgUnitsRequest = ExportRequest<OrgUnits>;

/// The query parameters of the organisational-units export.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Query {
    /// Only units with employees who have this skill, each counting only
    /// those employees. 1 to 100 letters, digits and hyphens; see
    /// [`check_skill_id`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub skill_id: Option<String>,
    /// Extra node fields, one `include` parameter each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Include>,
}

/// Checks a `skill_id` query value: 1 to 100 ASCII letters, digits and
/// hyphens, as the API documents.
pub fn check_skill_id(value: &str) -> Result<(), RequestError> {
    let len = value.chars().count();
    let reason = if !(1..=100).contains(&len) {
        format!("it must be 1 to 100 characters long, got {len}")
    } else if let Some(bad) = value
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
    {
        format!("{bad:?} is not allowed; use letters, digits and hyphens")
    } else {
        return Ok(());
    };
    Err(RequestError::InvalidParameter {
        name: "skill_id",
        value: value.to_owned(),
        reason,
    })
}

open_enum! {
    /// `include` values of the organisational-units export.
    pub enum Include {
        /// Adds `low_data_availability` to each unit.
        LowDataAvailabilityFlag = "low_data_availability_flag",
    }
}

wire_struct! {
    /// One organisational unit and its sub-units, as sent. The node field
    /// table is cut off in the documentation, so only `external_id` is
    /// required.
    pub struct OrgUnit => OrgUnitView {
        /// The unit's external id.
        req external_id: String,
        /// Its name.
        opt name: Option<String>,
        /// Employees in the unit and all its sub-units (with `skill_id`:
        /// only those who have the skill).
        opt total_nr_of_employees: Option<i64>,
        /// Employees in the unit with low data availability (with the
        /// `low_data_availability_flag` include).
        opt low_data_availability: Option<i64>,
        /// The sub-units.
        opt children: Option<Vec<OrgUnit>>,
    }
}

impl OrgUnit {
    /// The sub-units (empty when absent).
    pub fn children(&self) -> &[OrgUnit] {
        self.children.as_deref().unwrap_or(&[])
    }

    /// This unit and every unit below it, depth first, parents before
    /// children, in the order sent. Iterative: any depth is fine.
    pub fn flatten(&self) -> Flatten<'_> {
        Flatten::new(self)
    }
}

/// A unit of a tree [`Flatten`] walks: [`OrgUnit`] or its view.
pub trait Unit: Sized {
    /// The sub-units (empty when absent).
    fn sub_units(&self) -> &[Self];
}

impl Unit for OrgUnit {
    fn sub_units(&self) -> &[OrgUnit] {
        self.children()
    }
}

impl Unit for OrgUnitView {
    fn sub_units(&self) -> &[OrgUnitView] {
        self.children.as_deref().unwrap_or_default()
    }
}

/// The units of a subtree; see [`OrgUnit::flatten`].
#[derive(Debug, Clone)]
pub struct Flatten<'a, U = OrgUnit> {
    /// Units still to visit, with their depth.
    stack: Vec<(&'a U, usize)>,
    /// The ancestors of the next unit, root first.
    path: Vec<&'a U>,
}

impl<'a, U: Unit> Flatten<'a, U> {
    /// The units of the subtree under `root`, `root` first.
    pub fn new(root: &'a U) -> Self {
        Flatten {
            stack: vec![(root, 0)],
            path: Vec::new(),
        }
    }
}

/// One unit of a flattened subtree.
#[derive(Debug, Clone)]
pub struct FlatUnit<'a, U = OrgUnit> {
    /// The unit.
    pub unit: &'a U,
    /// Its parent; `None` for the subtree's root.
    pub parent: Option<&'a U>,
    /// 0 for the subtree's root, 1 for its children, and so on.
    pub depth: usize,
    /// The units from the root down to and including this one.
    pub ancestry: Vec<&'a U>,
}

impl FlatUnit<'_> {
    /// The external ids from the root down to this unit, joined with `/`.
    pub fn path(&self) -> String {
        let ids: Vec<&str> = self
            .ancestry
            .iter()
            .map(|u| u.external_id.as_str())
            .collect();
        ids.join("/")
    }
}

impl<'a, U: Unit> Iterator for Flatten<'a, U> {
    type Item = FlatUnit<'a, U>;

    fn next(&mut self) -> Option<FlatUnit<'a, U>> {
        let (unit, depth) = self.stack.pop()?;
        self.path.truncate(depth);
        let parent = self.path.last().copied();
        self.path.push(unit);
        self.stack.extend(
            unit.sub_units()
                .iter()
                .rev()
                .map(|child| (child, depth + 1)),
        );
        Some(FlatUnit {
            unit,
            parent,
            depth,
            ancestry: self.path.clone(),
        })
    }
}

impl Table for OrgUnit {
    crate::dataset::rows_over_views!(OrgUnitView);

    /// One row per unit of the subtree; see README.
    const COLUMNS: &'static [&'static str] = &[
        "external_id",
        "parent_external_id",
        "depth",
        "path",
        "name",
        "total_nr_of_employees",
        "low_data_availability",
        "extra",
    ];
    const TYPED: &'static [(&'static str, Kind)] = &[
        ("depth", Kind::Integer),
        ("total_nr_of_employees", Kind::Integer),
        ("low_data_availability", Kind::Integer),
    ];

    fn view_rows<E>(view: &OrgUnitView, t: &str, emit: &mut EmitRow<'_, E>) -> Result<(), E> {
        // One buffer for every row's path: its ancestry's ids, joined.
        let mut path = String::new();
        for row in Flatten::new(view) {
            let unit = row.unit;
            path.clear();
            for (i, ancestor) in row.ancestry.iter().enumerate() {
                if i > 0 {
                    path.push('/');
                }
                path.push_str(&ancestor.external_id.text(t));
            }
            emit(
                &[
                    unit.external_id.cell(t),
                    row.parent.map_or(Cell::BLANK, |p| p.external_id.cell(t)),
                    Cell::Integer(i64::try_from(row.depth).unwrap_or(i64::MAX)),
                    Cell::Text(&path),
                    cells::span(&unit.name, t),
                    cells::shown(unit.total_nr_of_employees),
                    cells::shown(unit.low_data_availability),
                    Cell::Text(&cells::extra_viewed(t, [("unit", unit)])),
                ],
                0,
            )?;
        }
        Ok(())
    }
}
