//! One module per dashboard screen; each registers its pages and form targets.

pub mod audit;
pub mod frameworks;
pub mod overview;
pub mod product;
pub mod projects;
pub mod requirements;
pub mod settings;
pub mod signin;
