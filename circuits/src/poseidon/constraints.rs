//! The R1CS twin of [`super::hash`].
