//! `xiaoan-manscdp`: MANSCDP XML bodies of GB/T 28181.
