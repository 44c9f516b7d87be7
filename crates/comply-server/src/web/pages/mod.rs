//! One module per dashboard screen; each registers its pages and form targets.

pub mod overview;
pub mod product;
pub mod settings;
pub mod signin;
