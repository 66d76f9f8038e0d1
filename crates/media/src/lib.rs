//! `xiaoan-media`: video without decoding.
