//! `xiaoan-sip`: sans-IO SIP codec for the GB/T 28181 subset.
