//! Statistics (laporan): what the province reports by hand, from data.

pub mod costs;
pub mod figures;
pub mod returns;
pub mod scope;
