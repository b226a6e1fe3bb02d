//! Leads for members.
