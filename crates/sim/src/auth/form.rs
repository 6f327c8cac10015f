//! The `application/x-www-form-urlencoded` body of a token or device-code
//! request, parsed by hand so that a malformed body gets Entra's error shape
//! instead of a framework rejection.

use super::response::OAuthError;

/// Form parameters in request order, each name at most once.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// Parses a body; a repeated parameter is refused, because which copy a
    /// server honours is exactly the ambiguity an attacker would exploit.
    pub(super) fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::invalid_request(
                    9002313,
                    format!("Invalid request. Request is malformed or invalid: the parameter '{name}' is duplicated."),
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(pairs))
    }

    /// A parameter's value; an empty value counts as absent, as it does for Entra.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// A parameter the request cannot do without (AADSTS900144 when absent).
    pub(super) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_values_and_refuses_duplicates() {
        let form =
            Form::parse(b"scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&a=&b=x+y").unwrap();
        assert_eq!(
            form.get("scope"),
            Some("https://graph.microsoft.com/.default")
        );
        assert_eq!(form.get("a"), None);
        assert_eq!(form.get("b"), Some("x y"));
        assert!(form.require("a").is_err());
        assert!(Form::parse(b"a=1&a=2").is_err());
    }
}
