//! Samples (median, min–max), number formatting, and the table's rows.

use serde_json::{json, Value};

#[derive(Clone, Debug, Default)]
pub(crate) struct Samples(Vec<f64>);

impl Samples {
    pub(crate) fn push(&mut self, v: f64) {
        self.0.push(v);
    }
    pub(crate) fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }
    pub(crate) fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }
    pub(crate) fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }
    pub(crate) fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
    pub(crate) fn show(&self, unit: &str) -> String {
        if self.0.len() == 1 {
            return format!("{} {unit}", fmt_num(self.median()));
        }
        format!(
            "{} {unit} ({}–{})",
            fmt_num(self.median()),
            fmt_num(self.min()),
            fmt_num(self.max())
        )
    }
    pub(crate) fn json(&self) -> Value {
        json!({"median": self.median(), "min": self.min(), "max": self.max(), "samples": self.0})
    }
}

pub(crate) fn fmt_num(v: f64) -> String {
    // No "-0.000" for a difference that is zero.
    let v = if v.abs() < 0.0005 { 0.0 } else { v };
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// One line of the table.
pub(crate) struct Row {
    pub(crate) figure: String,
    pub(crate) ours: String,
    pub(crate) baseline: String,
    /// The figure that meets the target or not (higher is better unless
    /// `at_most`).
    pub(crate) ratio: Option<f64>,
    pub(crate) target: String,
    pub(crate) met: Option<bool>,
    pub(crate) json: Value,
}

impl Row {
    /// A row whose figure is `ratio` and whose target is `ratio >= want`.
    pub(crate) fn at_least(
        figure: &str,
        ours: String,
        baseline: String,
        ratio: f64,
        want: f64,
        json: Value,
    ) -> Row {
        Row {
            figure: figure.into(),
            ours,
            baseline,
            ratio: Some(ratio),
            target: format!("≥ {want} ×"),
            met: Some(ratio >= want),
            json,
        }
    }
}
