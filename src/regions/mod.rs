//! Regions (wilayah): every province and kabupaten/kota with its Kemendagri code.

pub mod catalog;
pub mod code;
pub mod handlers;
pub mod queries;

pub use code::{RegionCode, RegionLevel};
