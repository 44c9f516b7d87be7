//! "Did you mean" suggestions for misspelt names.

/// The candidate closest to `input` by edit distance, when it is close enough to be a
/// plausible typo (at most a third of the longer word, and at least one edit allowed).
pub fn nearest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let input_lower = input.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        // Optimal string alignment: Levenshtein plus adjacent transpositions, the commonest
        // typo (`nmae`).
        let distance = strsim::osa_distance(&input_lower, &candidate.to_ascii_lowercase());
        let limit = (input.len().max(candidate.len()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["displayName", "description", "name", "annotations"];
        assert_eq!(nearest("displayname", fields), Some("displayName"));
        assert_eq!(nearest("descripton", fields), Some("description"));
        assert_eq!(nearest("nmae", fields), Some("name"));
        assert_eq!(nearest("zzzzzzzz", fields), None);
    }
}
