//! `m365-preserve interview`: ask the victim the questions of the checklist's
//! first step and write `interview.json`, or print a template to fill in.

use crate::cli::InterviewArgs;
use anyhow::{Context, Result};
use m365_preserve_report::i18n::tr;
use m365_preserve_report::interview::{question, Answer, Interview, INTERVIEW_FORMAT, QUESTIONS};
use m365_preserve_report::Lang;
use std::io::{BufRead, Write};
use std::process::ExitCode;

pub fn run(args: InterviewArgs, lang: Lang) -> Result<ExitCode> {
    if args.template {
        super::print_json(&Interview::template(lang))?;
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Result<String> {
        eprint!("{prompt}\n> ");
        std::io::stderr().flush()?;
        Ok(lines
            .next()
            .transpose()?
            .unwrap_or_default()
            .trim()
            .to_string())
    };
    eprintln!("{}", tr(lang, "interview-intro", &[]));
    let answered_by = ask(&tr(lang, "interview-answered-by", &[]))?;
    let recorded_by = ask(&tr(lang, "interview-recorded-by", &[]))?;
    let mut answers = Vec::new();
    for q in QUESTIONS {
        let answer = ask(&question(lang, q))?;
        answers.push(Answer {
            question: q.to_string(),
            answer,
        });
    }
    let interview = Interview {
        format: INTERVIEW_FORMAT.into(),
        answered_by,
        recorded_by,
        recorded_at: m365_preserve_package::timefmt::now_rfc3339(),
        language: lang.code().into(),
        answers,
    };
    let mut text = serde_json::to_vec_pretty(&interview)?;
    text.push(b'\n');
    m365_preserve_package::write_private_file(&args.out, &text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "{}",
        tr(
            lang,
            "interview-written",
            &[("path", args.out.display().to_string())]
        )
    );
    Ok(ExitCode::SUCCESS)
}
