"""Stage 5: stable grid codes, exports, report figures and the 一张网 reconciliation."""
