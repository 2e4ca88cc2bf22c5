//! Open string enumerations used by the export responses and requests.

use crate::wire::open_enum;

open_enum! {
    /// Whether a skill or skill cluster was confirmed, as the API reports it
    /// in `validation_state`.
    pub enum ValidationState {
        /// Inferred by TechWolf, not yet confirmed.
        Suggested = "suggested",
        /// Confirmed by the employee or an administrator.
        Validated = "validated",
        /// Validated when the profile was first set up (seen on job skills).
        InitiallyValidated = "initially_validated",
        /// Rejected through feedback (returned with the `rejected_skills` include).
        Rejected = "rejected",
    }
}

open_enum! {
    /// The kind of event that taught TechWolf about a skill or cluster
    /// (`sources` and `skill_sources`). TechWolf has added event types over
    /// time (the documented count grew from 8 to 11).
    pub enum SkillSource {
        /// A position in the employee's work history.
        WorkingHistory = "working_history",
        /// A degree or course in the employee's education history.
        EducationHistory = "education_history",
        /// An uploaded resume or CV.
        ResumeDocument = "resume_document",
        /// A learning activity (course completion and similar).
        Learning = "learning",
        /// Feedback given on the skill profile.
        Feedback = "feedback",
        /// A project the employee worked on.
        Project = "project",
        /// Feedback given on the skill profile through the feedback endpoint.
        SkillProfileFeedback = "skill_profile_feedback",
    }
}
