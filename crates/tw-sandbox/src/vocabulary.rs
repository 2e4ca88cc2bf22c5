//! The synthetic skill vocabulary: clusters, their domains and skills.
//!
//! Names are chosen to break naive exporters: commas, double quotes,
//! newlines, tabs, non-Latin scripts, emoji, and values starting with `=`,
//! `+`, `-` and `@` (spreadsheet formula injection).

pub(crate) struct ClusterTemplate {
    pub id: &'static str,
    pub name: &'static str,
    pub domain: &'static str,
    pub skills: &'static [(&'static str, &'static str)],
}

pub(crate) const CLUSTERS: &[ClusterTemplate] = &[
    ClusterTemplate {
        id: "51e605a8-ca08-4ba6-a359-28bad07b38f6",
        name: "DevOps",
        domain: "Computer Science",
        skills: &[
            ("ed8a3b44-59a0-44a6-a283-6c0e4b303be1", "Git"),
            ("eebcf485-9045-4669-a6f7-6e7faa465ff9", "Jenkins"),
            ("94835c7e-4135-40d7-aea6-165b33d01589", "Kubernetes"),
            ("63454703-6462-4ccc-bb50-34a0e99bfbf3", "Helm"),
            ("ci-cd-pipelines", "CI/CD, \"pipelines\" & releases"),
            ("terraform", "Terraform"),
        ],
    },
    ClusterTemplate {
        id: "df96accd-cfa9-414e-96e8-2f6421e9a768",
        name: "Programming Languages",
        domain: "Computer Science",
        skills: &[
            ("4b85469d-6729-4d70-9876-a0faa2a2f63b", "Python 🐍"),
            ("9e914d31-9db1-4d2d-8d16-ed8a88539879", "Java"),
            ("c-plus-plus", "C++"),
            ("rust-lang", "Rust 🦀"),
            ("eeb27f67-8abc-4ad9-babb-7868eaa13078", "Django"),
            ("f21b6e1a-dee2-478a-b92f-b4641237af6b", "Spring Framework"),
        ],
    },
    ClusterTemplate {
        id: "32575bc1-5c01-4d6f-89dc-8b4dceccf98a",
        name: "Financial accounting",
        domain: "Finance, Accounting & Tax",
        skills: &[
            ("8313fe8a-f39e-4a35-8c82-93b46c3de9bb", "Balance Sheet"),
            ("bdb5ee3f-8ba0-4c40-92b2-0277431ae069", "IFRS"),
            ("excel-formulas", "=SUM(A1:A10) formulas"),
            ("gaap", "US GAAP"),
            ("tax-returns", "Tax returns, corporate"),
        ],
    },
    ClusterTemplate {
        id: "spreadsheet-modelling",
        name: "Spreadsheet \"Power\" Modelling",
        domain: "Data & Analytics",
        skills: &[
            ("power-query", "Excel \"Power\" Query"),
            ("pivot-tables", "Pivot tables"),
            ("vlookup", "=VLOOKUP and friends"),
            ("plus-minus", "+/- variance analysis"),
            ("sql-queries", "SQL\nqueries"),
        ],
    },
    ClusterTemplate {
        id: "0d7e4a52-1f0b-4c39-9a8e-6b1b8f0c2d11",
        name: "Negotiation",
        domain: "Sales",
        skills: &[
            ("plus-one-negotiation", "+1 Negotiation"),
            ("closing", "Closing deals"),
            ("cold-calling", "Cold calling\t(outbound)"),
            ("mentions", "@Mentions etiquette"),
            ("crm", "CRM: Salesforce, HubSpot"),
        ],
    },
    ClusterTemplate {
        id: "c1f3b0de-77aa-4f0e-b4d4-55f0d9e8a901",
        name: "データサイエンス",
        domain: "Data & Analytics",
        skills: &[
            ("ml-basics", "機械学習"),
            ("statistics", "Statistik & Wahrscheinlichkeit"),
            ("data-viz", "Visualisation des données"),
            ("pandas", "pandas"),
        ],
    },
    ClusterTemplate {
        id: "rigging-and-lifting",
        name: "-Rigging & Lifting",
        domain: "Operations\tField Work",
        skills: &[
            ("rigging", "-Rigging"),
            ("forklift", "Forklift (Class II)"),
            ("safety", "Health & Safety ⛑️"),
            ("crane", "Κρανός χειρισμός"),
        ],
    },
    ClusterTemplate {
        id: "9f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        name: "People Management",
        domain: "Leadership\nand People",
        skills: &[
            ("coaching", "Coaching"),
            ("hiring", "Hiring, interviewing"),
            ("feedback", "Giving \"radical\" feedback"),
            ("conflict", "Conflict resolution 🤝"),
            ("okrs", "OKRs"),
        ],
    },
    ClusterTemplate {
        id: "a7b6c5d4-e3f2-4a1b-9c8d-7e6f5a4b3c2d",
        name: "Legal",
        domain: "Law & Compliance",
        skills: &[
            ("gdpr", "GDPR"),
            ("contracts", "Contract drafting"),
            ("french-legal", "Français juridique"),
            ("arabic-legal", "القانون التجاري"),
        ],
    },
    ClusterTemplate {
        id: "logistics-planning",
        name: "Logistik & Lieferkette",
        domain: "Supply Chain",
        skills: &[
            ("sap-mm", "SAP MM"),
            ("route-planning", "Route planning"),
            ("customs", "Customs & excise, EU"),
            ("at-risk", "@Risk modelling"),
        ],
    },
];

/// Event types; `hackathon` is one TechWolf has not documented (yet), so
/// clients are tested on unknown values.
pub(crate) const SOURCES: &[&str] = &[
    "working_history",
    "education_history",
    "resume_document",
    "learning",
    "feedback",
    "project",
    "skill_profile_feedback",
    "hackathon",
];

pub(crate) const GROUPS: &[&str] = &["R&D", "Sales, EMEA", "Ops \"Night\" Shift", "経営企画"];

/// Tasks: id, name, and the index of the cluster whose skills it links.
/// Names are as hostile as the skills'.
pub(crate) const TASKS: &[(&str, &str, usize)] = &[
    ("write-unit-tests", "Write unit tests", 1),
    ("run-cluster-upgrades", "Run the cluster upgrade rota", 0),
    (
        "reconcile-vendor-invoices",
        "Reconcile vendor invoices, \"urgent\" ones first",
        2,
    ),
    (
        "prepare-quarterly-close",
        "=Prepare the quarterly close report",
        2,
    ),
    ("build-pivot-reports", "Build pivot reports\nfor finance", 3),
    ("negotiate-renewals", "+Negotiate renewals", 4),
    ("triage-alerts", "Triage alerts\t(on call)", 0),
    ("review-pull-requests", "Review pull requests 🔍", 1),
    ("train-models", "モデルを訓練する", 5),
    ("mentor-juniors", "@Mentor juniors", 1),
];

/// AI-impact levels and a rationale for each.
pub(crate) const AI_IMPACT: &[(&str, &str)] = &[
    ("H1", "Largely rule based; automation does most of it"),
    ("H2", "Automation drafts, a person checks"),
    ("H3", "Needs accountable human judgement, sign-off"),
];

/// Goal titles.
pub(crate) const GOALS: &[&str] = &[
    "Move into a platform engineering role",
    "Take ownership of the annual payroll audit",
    "Lead the \"close\" process, end to end",
    "=Automate the monthly reporting",
    "Become the team's data-science mentor",
];

/// Job family ids.
pub(crate) const JOB_FAMILIES: &[&str] = &[
    "jf_engineering",
    "jf_finance",
    "jf_sales",
    "jf_data",
    "jf_operations",
];

/// Skill types of job skills (display strings, as TechWolf sends them).
pub(crate) const SKILL_TYPES: &[&str] = &["Job-Specific", "Family-Specific", "Core"];

/// Peer groups: the industry segments market profiles are drawn from.
pub(crate) const PEER_GROUPS: &[&str] = &[
    "Online Retail Platforms",
    "Payment Service Providers",
    "Banks, \"Tier 1\"",
    "Logistics & Freight",
    "Öffentlicher Dienst",
];
