//! The vocabulary of transfers: status machine, legs, escorts, costs.

use crate::text::Line;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::budgets::split::CostCategory;
use crate::schema::transfers;

crate::text_enum! {
    /// Where a transfer stands.
    pub enum TransferStatus {
        /// Being prepared; members and costs may change.
        Planned => "planned",
        /// On the way; its members are in transfer.
        Departed => "departed",
        /// At the destination, awaiting handover.
        Arrived => "arrived",
        /// Handed over (BAST signed).
        HandedOver => "handed_over",
        /// Called off.
        Cancelled => "cancelled",
    }
}

impl TransferStatus {
    /// The statuses `POST /transfers/{id}/transitions` may move to from this one.
    /// `handed_over` is reached only through the handover.
    pub fn next(self) -> &'static [TransferStatus] {
        use TransferStatus::*;
        match self {
            Planned => &[Departed, Cancelled],
            Departed => &[Arrived, Cancelled],
            Arrived => &[],
            HandedOver | Cancelled => &[],
        }
    }
}

crate::text_enum! {
    /// How a leg travels.
    pub enum TransportMode {
        /// By road.
        Road => "road",
        /// By ship.
        Sea => "sea",
        /// By plane.
        Air => "air",
    }
}

/// One leg of a journey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "mode": "sea", "carrier": "PELNI", "vessel_or_flight": "KM Lawit", "from": "Pelabuhan Dwikora Pontianak",
    "to": "Tanjung Perak Surabaya", "planned_departure": "2019-03-20T08:00:00Z", "planned_arrival": "2019-03-22T06:00:00Z",
    "actual_departure": null, "actual_arrival": null
}))]
pub struct Leg {
    /// road, sea or air.
    pub mode: TransportMode,
    /// Bus company, shipping line or airline.
    pub carrier: Option<Line<200>>,
    /// Vessel name or flight number.
    pub vessel_or_flight: Option<Line<100>>,
    /// Where the leg starts.
    pub from: Line<200>,
    /// Where it ends.
    pub to: Line<200>,
    /// Planned departure.
    pub planned_departure: DateTime<Utc>,
    /// Planned arrival.
    pub planned_arrival: Option<DateTime<Utc>>,
    /// Actual departure.
    pub actual_departure: Option<DateTime<Utc>>,
    /// Actual arrival.
    pub actual_arrival: Option<DateTime<Utc>>,
}

/// An escorting officer (pendamping).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Yusuf Hidayat", "position": "Pekerja Sosial", "phone": "+6281300000000"}))]
pub struct Escort {
    /// Name.
    pub name: Line<200>,
    /// Position.
    pub position: Option<Line<200>>,
    /// Telephone.
    pub phone: Option<Line<30>>,
}

/// An estimated cost of a category, committed against budgets when the transfer is planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "transport", "amount": 4_500_000}))]
pub struct EstimatedCost {
    /// What it pays for.
    pub category: CostCategory,
    /// Whole rupiah, 1 to 10^15.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    pub amount: i64,
}

/// A transfer as stored.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = transfers)]
pub struct TransferRow {
    /// Id.
    pub id: Uuid,
    /// Reference.
    pub reference: String,
    /// Fiscal year.
    pub fiscal_year: i32,
    /// Handling province.
    pub handling_province: String,
    /// Planning agency.
    pub planning_agency_id: Uuid,
    /// Destination.
    pub destination_region: String,
    /// Destination province.
    pub destination_province: String,
    /// Receiving agency.
    pub receiving_agency_id: Option<Uuid>,
    /// Status.
    pub status: TransferStatus,
    /// Legs.
    pub legs: serde_json::Value,
    /// First planned departure.
    pub planned_departure: Option<DateTime<Utc>>,
    /// Escorts.
    pub escorts: serde_json::Value,
    /// Estimated costs.
    pub estimated_costs: serde_json::Value,
    /// Notes.
    pub notes: Option<String>,
    /// BAST number.
    pub bast_number: Option<String>,
    /// Handover time.
    pub handed_over_at: Option<DateTime<Utc>>,
    /// Received by.
    pub received_by_name: Option<String>,
    /// Their position.
    pub received_by_position: Option<String>,
    /// Witnesses.
    pub witnesses: Option<serde_json::Value>,
    /// Version.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
    /// When it was handed over or cancelled, in the system.
    pub closed_at: Option<DateTime<Utc>>,
}

impl TransferRow {
    /// The estimated costs, parsed.
    pub fn estimates(&self) -> Vec<EstimatedCost> {
        serde_json::from_value(self.estimated_costs.clone()).unwrap_or_default()
    }
}

crate::text_enum! {
    /// What became of one returnee at handover.
    pub enum HandoverOutcome {
        /// Received by the receiving agency: the case is returned.
        Received => "received",
        /// Left before handover: the case is absconded.
        Absconded => "absconded",
        /// Not received (refused, hospitalised, …): the case goes back to ready for transfer.
        ReturnedToShelter => "returned_to_shelter",
    }
}
