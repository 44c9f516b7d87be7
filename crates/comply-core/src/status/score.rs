//! The score of a set of cells (semantics §3, "Score").

use super::cell::CellStatus;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub passing: usize,
    pub counted: usize,
    /// `passing / counted`; `None` when nothing is counted ("n/a", never 100%).
    pub score: Option<f64>,
    /// Every counted cell passes. Vacuously true when nothing is counted: exceptions
    /// and applicability are deliberate decisions, and a gate must not fail on them.
    pub compliant: bool,
}

impl Score {
    /// Pass each cell once: a requirement in two frameworks is one cell, however many
    /// frameworks it shows under.
    pub fn of<'a>(cells: impl IntoIterator<Item = &'a CellStatus>) -> Score {
        let (mut passing, mut counted) = (0, 0);
        for cell in cells {
            if cell.counted {
                counted += 1;
                if cell.passing {
                    passing += 1;
                }
            }
        }
        Score {
            passing,
            counted,
            score: (counted > 0).then(|| passing as f64 / counted as f64),
            compliant: passing == counted,
        }
    }

    /// The cells shown under one framework.
    pub fn of_framework<'a>(
        cells: impl IntoIterator<Item = &'a CellStatus>,
        framework: &str,
    ) -> Score {
        Score::of(
            cells
                .into_iter()
                .filter(|c| c.frameworks.iter().any(|f| f == framework)),
        )
    }
}
