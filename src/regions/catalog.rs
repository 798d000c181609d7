//! The region list compiled into the binary, for checks that need no database
//! (a NIK's regency prefix, a case's origin). The same file is loaded into the
//! `regions` table by a migration; a test keeps the two identical.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{RegionCode, RegionLevel};

/// One region of the catalog.
#[derive(Debug, Clone)]
pub struct CatalogRegion {
    /// Province or regency.
    pub level: RegionLevel,
    /// Official name.
    pub name: String,
}

static CATALOG: OnceLock<HashMap<String, CatalogRegion>> = OnceLock::new();

fn catalog() -> &'static HashMap<String, CatalogRegion> {
    CATALOG.get_or_init(|| {
        include_str!("../../data/regions.csv")
            .lines()
            .skip(1)
            .filter_map(|line| {
                let fields: Vec<&str> = line.splitn(4, ',').collect();
                let level = RegionLevel::parse(fields.get(1)?)?;
                Some((
                    (*fields.first()?).to_owned(),
                    CatalogRegion {
                        level,
                        name: (*fields.get(3)?).to_owned(),
                    },
                ))
            })
            .collect()
    })
}

/// The region with this code, if it exists.
pub fn lookup(code: &RegionCode) -> Option<&'static CatalogRegion> {
    catalog().get(code.as_str())
}

/// The official name of the region with this code (dotted or plain), if it
/// exists.
pub fn name_of(code: &str) -> Option<&'static str> {
    RegionCode::parse(code)
        .ok()
        .and_then(|c| lookup(&c))
        .map(|r| r.name.as_str())
}

/// Whether `code` is a known regency (kabupaten or kota).
pub fn is_regency(code: &RegionCode) -> bool {
    lookup(code).is_some_and(|r| r.level == RegionLevel::Regency)
}

/// Whether `code` is a known province.
pub fn is_province(code: &RegionCode) -> bool {
    lookup(code).is_some_and(|r| r.level == RegionLevel::Province)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_holds_every_province_and_regency() {
        assert_eq!(
            catalog()
                .values()
                .filter(|r| r.level == RegionLevel::Province)
                .count(),
            38
        );
        assert_eq!(
            catalog()
                .values()
                .filter(|r| r.level == RegionLevel::Regency)
                .count(),
            514
        );
        assert!(is_regency(&RegionCode::parse("6171").unwrap()));
        assert!(is_province(&RegionCode::parse("61").unwrap()));
        assert!(!is_regency(&RegionCode::parse("61.99").unwrap()));
    }
}
