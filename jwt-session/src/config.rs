//! Reading a function's configuration from its environment, every problem collected so that
//! start-up reports them all together (the authorizer's and secrets-fn's `Config`s use it).

use std::fmt;

/// What is wrong with a variable (stable codes: `missing`, `invalid`, `contradictory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// A required variable is unset or empty.
    Missing,
    /// The value cannot be used.
    Invalid,
    /// The value contradicts another variable's.
    Contradictory,
}

impl Code {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Missing => "missing",
            Code::Invalid => "invalid",
            Code::Contradictory => "contradictory",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One configuration problem. Carries the variable's name, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong.
    pub code: Code,
    /// What to do.
    pub hint: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}]: {}", self.variable, self.code, self.hint)
    }
}

/// Variables read through a lookup (`std::env::var` in Lambda, a map in tests), with the
/// problems found so far.
pub struct Env<F> {
    lookup: F,
    problems: Vec<Problem>,
}

impl<F> fmt::Debug for Env<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Reads through `lookup`.
    pub fn new(lookup: F) -> Self {
        Env {
            lookup,
            problems: Vec::new(),
        }
    }

    /// Records a problem.
    pub fn problem(&mut self, variable: &'static str, code: Code, hint: impl Into<String>) {
        self.problems.push(Problem {
            variable,
            code,
            hint: hint.into(),
        });
    }

    /// The problems so far, in the order they were found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The problems, the reading done.
    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    /// The trimmed value; empty counts as unset.
    pub fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A value that must be set (`missing` with `hint` otherwise; then empty).
    pub fn required(&mut self, var: &'static str, hint: &str) -> String {
        match self.get(var) {
            Some(v) => v,
            None => {
                self.problem(var, Code::Missing, hint);
                String::new()
            }
        }
    }

    /// A whole number from `min` to `max`, `default` when unset (and when invalid, with the
    /// problem recorded).
    pub fn number(&mut self, var: &'static str, default: u64, min: u64, max: u64) -> u64 {
        self.number_or(
            var,
            default,
            min,
            max,
            &format!("must be a whole number from {min} to {max}"),
        )
    }

    /// [`Env::number`] with the hint to give when the value is invalid.
    pub fn number_or(
        &mut self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
        hint: &str,
    ) -> u64 {
        let Some(text) = self.get(var) else {
            return default;
        };
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                self.problem(var, Code::Invalid, hint);
                default
            }
        }
    }

    /// `true` or `false`; `false` when unset (and when invalid, with the problem recorded).
    pub fn flag(&mut self, var: &'static str) -> bool {
        match self.get(var).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                self.problem(var, Code::Invalid, "must be `true` or `false`");
                false
            }
        }
    }

    /// A comma-separated list, items trimmed, empty ones dropped.
    pub fn list(&self, var: &str) -> Vec<String> {
        self.get(var)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::new(move |k: &str| m.get(k).cloned())
    }

    #[test]
    fn every_problem_is_kept_with_its_variable_and_never_its_value() {
        let mut e = env(&[("N", "12x"), ("B", "yes"), ("L", " a, ,b "), ("E", "  ")]);
        assert_eq!(e.number("N", 5, 1, 10), 5);
        assert!(!e.flag("B"));
        assert_eq!(e.required("E", "set it"), "");
        assert_eq!(e.list("L"), vec!["a", "b"]);
        assert_eq!(e.number_or("N", 7, 0, 9, "custom"), 7);
        let shown: Vec<String> = e.into_problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "N [invalid]: must be a whole number from 1 to 10",
                "B [invalid]: must be `true` or `false`",
                "E [missing]: set it",
                "N [invalid]: custom",
            ]
        );
    }
}
