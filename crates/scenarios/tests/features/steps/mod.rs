//! Step definitions, one module per area.

mod smoke;
