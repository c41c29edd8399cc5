"""The waiting room: a fair queue for a hot on-sale (stampede-api.md §8)."""
