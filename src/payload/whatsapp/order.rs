//! `order` of a WhatsApp message: a cart sent from the business's catalog.

use serde::{Deserialize, Serialize};

use crate::payload::lenient;

/// `order`: the products the person put in their cart and sent.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct WaOrder {
    /// `catalog_id`.
    #[serde(default, deserialize_with = "lenient::id")]
    pub catalog_id: Option<String>,
    /// `text` the person sent with the order, verbatim.
    #[serde(default, deserialize_with = "lenient::string")]
    pub text: Option<String>,
    /// `product_items`.
    #[serde(default, deserialize_with = "lenient::objects")]
    pub product_items: Vec<OrderItem>,
}

/// One of `order.product_items`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[non_exhaustive]
pub struct OrderItem {
    /// `product_retailer_id`: the product's SKU in the catalog.
    #[serde(default, deserialize_with = "lenient::id")]
    pub product_retailer_id: Option<String>,
    /// `quantity` (a number or a numeric string).
    #[serde(default, deserialize_with = "lenient::uint")]
    pub quantity: Option<u64>,
    /// `item_price`: the unit price (a number or a numeric string).
    #[serde(default, deserialize_with = "lenient::float")]
    pub item_price: Option<f64>,
    /// `currency` (ISO 4217).
    #[serde(default, deserialize_with = "lenient::string")]
    pub currency: Option<String>,
}
