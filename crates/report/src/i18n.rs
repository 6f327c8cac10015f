//! Japanese and English, through Fluent (<https://projectfluent.org>): every
//! sentence an administrator reads comes from `i18n/<lang>.ftl`, the report's
//! and the console summary's alike.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::Serialize;
use std::sync::OnceLock;
use unic_langid::{langid, LanguageIdentifier};

/// A language of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// `ja` or `en` (and `ja_JP.UTF-8`, `en-US`...).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("ja") {
            Some(Lang::Ja)
        } else if s.starts_with("en") || s == "c" || s == "posix" {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of the environment (`LC_ALL`, then `LC_MESSAGES`, then
    /// `LANG`), English when none says.
    pub fn from_env() -> Lang {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .and_then(|v| Lang::parse(&v))
            .unwrap_or(Lang::En)
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::Ja => langid!("ja"),
            Lang::En => langid!("en"),
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Ja => include_str!("../i18n/ja.ftl"),
            Lang::En => include_str!("../i18n/en.ftl"),
        }
    }
}

/// A sentence in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> &'static Bundle {
    static JA: OnceLock<Bundle> = OnceLock::new();
    static EN: OnceLock<Bundle> = OnceLock::new();
    let cell = match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    };
    cell.get_or_init(|| {
        let resource = FluentResource::try_new(lang.source().to_string())
            .unwrap_or_else(|(_, errors)| panic!("i18n/{}.ftl: {errors:?}", lang.code()));
        let mut b = FluentBundle::new_concurrent(vec![lang.id()]);
        // Plain text and HTML both: no Unicode isolation marks around arguments.
        b.set_use_isolating(false);
        b.add_resource(resource)
            .unwrap_or_else(|errors| panic!("i18n/{}.ftl: {errors:?}", lang.code()));
        b
    })
}

/// The message `id` in `lang` with `args`; the id itself when the message is
/// missing (a test checks that none is).
pub fn tr(lang: Lang, id: &str, args: &[(&str, String)]) -> String {
    let b = bundle(lang);
    let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
        return id.to_string();
    };
    let mut fa = FluentArgs::new();
    for (k, v) in args {
        fa.set(*k, FluentValue::from(v.as_str()));
    }
    let mut errors = Vec::new();
    b.format_pattern(pattern, Some(&fa), &mut errors)
        .into_owned()
}

/// The message `id` in both languages.
pub fn text(id: &str, args: &[(&str, String)]) -> Text {
    Text {
        ja: tr(Lang::Ja, id, args),
        en: tr(Lang::En, id, args),
    }
}

/// Whether `lang` has the message `id`.
pub fn has(lang: Lang, id: &str) -> bool {
    bundle(lang).has_message(id)
}

/// The message ids of a language's file, for the completeness test.
pub fn ids(lang: Lang) -> Vec<String> {
    lang.source()
        .lines()
        .filter_map(|l| {
            let (id, _) = l.split_once(" =")?;
            (!id.starts_with(' ') && !id.starts_with('#') && !id.is_empty())
                .then(|| id.trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_messages() {
        let mut ja = ids(Lang::Ja);
        let mut en = ids(Lang::En);
        ja.sort();
        en.sort();
        let only_ja: Vec<_> = ja.iter().filter(|i| !en.contains(i)).collect();
        let only_en: Vec<_> = en.iter().filter(|i| !ja.contains(i)).collect();
        assert!(
            only_ja.is_empty() && only_en.is_empty(),
            "ja only {only_ja:?}, en only {only_en:?}"
        );
        for id in &en {
            assert!(!tr(Lang::En, id, &[]).is_empty());
        }
    }

    #[test]
    fn languages_come_from_the_locale() {
        assert_eq!(Lang::parse("ja_JP.UTF-8"), Some(Lang::Ja));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("C"), Some(Lang::En));
        assert_eq!(Lang::parse("fr_FR"), None);
    }
}
