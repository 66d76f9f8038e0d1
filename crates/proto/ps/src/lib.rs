//! `xiaoan-ps`: sans-IO RTP and MPEG-PS for GB/T 28181 video.
