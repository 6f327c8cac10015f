//! The interview: the checklist's first step. The victim's account of what
//! happened (when they noticed, what mail, what they entered, what they ran,
//! who was told) is recorded as `interview.json`, sealed with the evidence and
//! shown in the report.

use crate::i18n::{tr, Lang};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

/// The format of `interview.json`.
pub const INTERVIEW_FORMAT: &str = "m365-preserve-interview/1";

/// The questions, in the order they are asked.
pub const QUESTIONS: &[&str] = &[
    "noticed", "mail", "entered", "software", "ran", "other", "told",
];

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The question's key (one of [`QUESTIONS`]).
    pub question: String,
    pub answer: String,
}

/// The recorded interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interview {
    pub format: String,
    /// Who answered (the victim).
    pub answered_by: String,
    /// Who asked and recorded.
    pub recorded_by: String,
    /// When it was recorded (RFC 3339 UTC).
    pub recorded_at: String,
    /// The language the questions were asked in.
    pub language: String,
    pub answers: Vec<Answer>,
}

/// Why an interview file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InterviewError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("the format is {0:?}, not {INTERVIEW_FORMAT:?}")]
    Format(String),
    #[error("unknown question {0:?}; the questions are {q}", q = QUESTIONS.join(", "))]
    Question(String),
    #[error("recorded_at {0:?} is not an RFC 3339 UTC time")]
    Time(String),
}

impl Interview {
    /// A template to fill in: every question, with its text as a hint.
    pub fn template(lang: Lang) -> serde_json::Value {
        serde_json::json!({
            "format": INTERVIEW_FORMAT,
            "answered_by": "",
            "recorded_by": "",
            "recorded_at": "",
            "language": lang.code(),
            "answers": QUESTIONS.iter().map(|q| serde_json::json!({
                "question": q,
                "text": question(lang, q),
                "answer": "",
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads and checks an interview file.
    pub fn parse(bytes: &[u8]) -> Result<Self, InterviewError> {
        let i: Interview = serde_json::from_slice(bytes)?;
        if i.format != INTERVIEW_FORMAT {
            return Err(InterviewError::Format(i.format));
        }
        if let Some(a) = i
            .answers
            .iter()
            .find(|a| !QUESTIONS.contains(&a.question.as_str()))
        {
            return Err(InterviewError::Question(a.question.clone()));
        }
        if crate::values::time(&i.recorded_at).is_none() || !i.recorded_at.ends_with('Z') {
            return Err(InterviewError::Time(i.recorded_at));
        }
        Ok(i)
    }
}

/// A question's text.
pub fn question(lang: Lang, key: &str) -> String {
    tr(lang, &format!("interview-q-{key}"), &[])
}

/// The interview as the report shows it.
pub fn render(lang: Lang, i: &Interview) -> Markup {
    html! {
        p class="meta" { (tr(lang, "interview-recorded", &[
            ("by", i.recorded_by.clone()), ("who", i.answered_by.clone()), ("at", i.recorded_at.clone())])) }
        table {
            @for a in &i.answers {
                tr { th { (question(lang, &a.question)) } td { (a.answer) } }
            }
        }
    }
}
